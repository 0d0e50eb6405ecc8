// S gradient steps of K RL Tuner agents in one call: the native form of agents/step/update.py's gradient_step.
//
// Same numbers as the Python step to float rounding (tests/agents/test_native_step.py): one LSTM step from
// the stored state, the TD target of each agent's algorithm (Eq. 4, 11, 13; docs/spec.md §5), the
// hand-written backward pass, the gradient clip, Adam and the soft target update (docs/spec.md §6).
//
// Why native: at batch 32 the Python step is about sixty small tensor operations, and their per-call
// overhead, not arithmetic, set its cost. Here the matrix products and the sigmoids are ATen calls on
// buffers allocated once per call; the gathers, scatters, elementwise products, the gradient norm, Adam
// and the target update are plain loops, vectorised by the compiler.
//
// Parameters of one agent are a row of a (K, P) float32 tensor in the order of agents/step/stacked.py:
// weight_ih (4H, A), weight_hh (4H, H), bias_ih (4H), bias_hh (4H), head.weight (A, H), head.bias (A).
// PyTorch's gate order: input, forget, cell, output.

#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <vector>

namespace {

enum Algorithm : int64_t { kQ = 0, kPsi = 1, kG = 2, kRlOnly = 3 };

// The loops below are compiled for AVX-512, AVX2 and plain x86-64, and the best the CPU has is picked when the
// library loads (GCC's target_clones); elsewhere they are compiled once for the target.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define VECTORIZED __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTORIZED
#endif

// The clipped gradient, Adam and the soft target update over one agent's n parameters in one pass:
// the arithmetic of torch.optim.Adam's fused kernel (docs/spec.md §6), then θ⁻ ← θ⁻ + η(θ − θ⁻) (torch.lerp).
VECTORIZED void clip_adam_lerp(float* __restrict p, float* __restrict g, float* __restrict m, float* __restrict v,
                               float* __restrict t, int64_t n, float scale, float beta1, float beta2, float step_size,
                               float bias_correction2_sqrt, float eps, float tau) {
  const float one_minus_beta1 = 1.0f - beta1, one_minus_beta2 = 1.0f - beta2;
  for (int64_t i = 0; i < n; ++i) {
    const float grad = g[i] * scale;
    g[i] = grad;
    const float avg = m[i] + one_minus_beta1 * (grad - m[i]);
    const float avg_sq = v[i] * beta2 + grad * grad * one_minus_beta2;
    m[i] = avg;
    v[i] = avg_sq;
    const float param = p[i] - step_size * avg / (std::sqrt(avg_sq) / bias_correction2_sqrt + eps);
    p[i] = param;
    t[i] = t[i] + tau * (param - t[i]);
  }
}

// Σ x² in 16 interleaved float sums (vectorised as torch.linalg.vector_norm's reduction is; the same to rounding).
VECTORIZED float sum_of_squares(const float* __restrict x, int64_t n) {
  constexpr int64_t kLanes = 16;
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) lanes[l] += x[i + l] * x[i + l];
  float total = 0.0f;
  for (; i < n; ++i) total += x[i] * x[i];
  for (int64_t l = 0; l < kLanes; ++l) total += lanes[l];
  return total;
}

// rows × H cell-state update from the gates' sigmoids: tanh of the cell gate, cell1 = f·cell0 + i·tanh(g), and 2·cell1.
VECTORIZED void cell_update(float* __restrict gates, const float* __restrict cell0, float* __restrict cell1,
                            float* __restrict twice_cell1, int64_t rows, int64_t H) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = gates + r * 4 * H;
    for (int64_t j = 0; j < H; ++j) {
      const float cell_in = row[2 * H + j] * 2.0f - 1.0f;
      row[2 * H + j] = cell_in;
      const float next = row[H + j] * cell0[r * H + j] + row[j] * cell_in;
      cell1[r * H + j] = next;
      twice_cell1[r * H + j] = 2.0f * next;
    }
  }
}

// h1 = o · tanh(cell1), with tanh(cell1) = 2σ(2c1) − 1 written over σ(2c1).
VECTORIZED void hidden_update(const float* __restrict gates, float* __restrict tanh_cell1, float* __restrict h1,
                              int64_t rows, int64_t H) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* out_gate = gates + r * 4 * H + 3 * H;
    for (int64_t j = 0; j < H; ++j) {
      const float t = tanh_cell1[r * H + j] * 2.0f - 1.0f;
      tanh_cell1[r * H + j] = t;
      h1[r * H + j] = out_gate[j] * t;
    }
  }
}

// ∂L/∂(pre-activations) of one transition from ∂L/∂h1 (docs/spec.md §5: one step, no BPTT).
VECTORIZED void gate_gradients(const float* __restrict sig, const float* __restrict tanh_cell1, const float* __restrict cell0,
                               const float* __restrict d_h, float* __restrict d, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float t = tanh_cell1[j];
    const float d_c = d_h[j] * sig[3 * H + j] * (1.0f - t * t);
    const float i = sig[j], f = sig[H + j], cell_in = sig[2 * H + j], out = sig[3 * H + j];
    d[j] = d_c * cell_in * (i * (1.0f - i));
    d[H + j] = d_c * cell0[j] * (f * (1.0f - f));
    d[2 * H + j] = d_c * i * (1.0f - cell_in * cell_in);
    d[3 * H + j] = d_h[j] * t * (out * (1.0f - out));
  }
}

// The head's gradient row of the action taken, and ∂L/∂h1 = ∂L/∂V · W_o[a].
VECTORIZED void head_gradients(float d_value, const float* __restrict h1, const float* __restrict w_o_row,
                               float* __restrict g_o_row, float* __restrict d_h, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    g_o_row[j] += d_value * h1[j];
    d_h[j] = d_value * w_o_row[j];
  }
}

struct Offsets {
  int64_t w_ih, w_hh, b_ih, b_hh, w_o, b_o, size;
  Offsets(int64_t H, int64_t A) {
    const int64_t G = 4 * H;
    w_ih = 0;
    w_hh = w_ih + G * A;
    b_ih = w_hh + G * H;
    b_hh = b_ih + G;
    w_o = b_hh + G;
    b_o = w_o + A * H;
    size = b_o + A;
  }
};

// (K, rows, cols) view of one parameter in every row of flat (K, P).
at::Tensor param_view(const at::Tensor& flat, int64_t offset, int64_t rows, int64_t cols) {
  return flat.narrow(1, offset, rows * cols).view({flat.size(0), rows, cols});
}

// out += a @ b for each of the K agents (a plain matrix product when K = 1: less overhead than the batched one).
void add_product(at::Tensor& out, const at::Tensor& a, const at::Tensor& b) {
  if (out.size(0) == 1) {
    at::Tensor out0 = out[0];
    out0.addmm_(a[0], b[0]);
  } else {
    out.baddbmm_(a, b);
  }
}

// out = a @ b for each of the K agents.
void product(at::Tensor& out, const at::Tensor& a, const at::Tensor& b) {
  if (out.size(0) == 1) {
    at::Tensor out0 = out[0];
    at::mm_out(out0, a[0], b[0]);
  } else {
    at::bmm_out(out, a, b);
  }
}

// Workspace of one LSTM step of K networks on B transitions.
struct LstmStep {
  at::Tensor gates;   // (K, B, 4H): after run(), σ of the input, forget, output gates and tanh of the cell gate
  at::Tensor h, cell;    // (K, B, H): new state
  at::Tensor tanh_cell;  // (K, B, H)
  LstmStep(int64_t K, int64_t B, int64_t H, const at::TensorOptions& opt)
      : gates(at::empty({K, B, 4 * H}, opt)),
        h(at::empty({K, B, H}, opt)),
        cell(at::empty({K, B, H}, opt)),
        tanh_cell(at::empty({K, B, H}, opt)) {}

  // One step from (h0, cell0) on the notes (K, B); tanh(z) = 2σ(2z) − 1 as sequence_env.lstm.tanh.
  void run(const at::Tensor& flat, const Offsets& o, int64_t H, int64_t A, const int64_t* notes, const at::Tensor& h0,
           const at::Tensor& cell0) {
    const int64_t K = gates.size(0), B = gates.size(1), G = 4 * H, P = o.size;
    const float* theta = flat.data_ptr<float>();
    float* g = gates.data_ptr<float>();
    std::vector<float> table(B > 2 * A ? A * G : 0);
    for (int64_t k = 0; k < K; ++k) {
      const float* w_ih = theta + k * P + o.w_ih;
      const float* b_ih = theta + k * P + o.b_ih;
      const float* b_hh = theta + k * P + o.b_hh;
      if (table.empty()) {  // a few rows: read each row's column of W_ih where it lies
        for (int64_t b = 0; b < B; ++b) {
          const int64_t note = notes[k * B + b];
          float* row = g + (k * B + b) * G;
          for (int64_t j = 0; j < G; ++j) row[j] = (b_ih[j] + b_hh[j]) + w_ih[j * A + note];
        }
        continue;
      }
      for (int64_t j = 0; j < G; ++j)  // many rows: W_ih transposed once (A, 4H), then one copy per row
        for (int64_t a = 0; a < A; ++a) table[a * G + j] = (b_ih[j] + b_hh[j]) + w_ih[j * A + a];
      for (int64_t b = 0; b < B; ++b) std::copy_n(table.data() + notes[k * B + b] * G, G, g + (k * B + b) * G);
    }
    add_product(gates, h0, param_view(flat, o.w_hh, G, H).transpose(1, 2));
    for (int64_t r = 0; r < K * B; ++r) {
      float* cell_gate = g + r * G + 2 * H;
      for (int64_t j = 0; j < H; ++j) cell_gate[j] *= 2.0f;
    }
    gates.sigmoid_();
    cell_update(g, cell0.data_ptr<float>(), cell.data_ptr<float>(), tanh_cell.data_ptr<float>(), K * B, H);
    tanh_cell.sigmoid_();
    hidden_update(g, tanh_cell.data_ptr<float>(), h.data_ptr<float>(), K * B, H);
  }
};

float log_sum_exp(const float* x, int64_t n) {
  const float m = *std::max_element(x, x + n);
  if (!std::isfinite(m)) return m;
  float total = 0.0f;
  for (int64_t a = 0; a < n; ++a) total += std::exp(x[a] - m);
  return m + std::log(total);
}

// The bootstrap value of s' for one transition: max (Q, RL-only, Eq. 4), log Σ exp Ψ⁻ (Eq. 11) or
// log Σ exp(log p + G⁻) (Eq. 13).
float next_value(int64_t algorithm, const float* values, const float* log_prior, int64_t A, float* scratch) {
  if (algorithm == kQ || algorithm == kRlOnly) return *std::max_element(values, values + A);
  if (algorithm == kPsi) return log_sum_exp(values, A);
  for (int64_t a = 0; a < A; ++a) scratch[a] = log_prior[a] + values[a];
  return log_sum_exp(scratch, A);
}

void check_float(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.scalar_type() == at::kFloat && t.is_contiguous(), name, " must be a contiguous float32 tensor");
}

void check_ids(const at::Tensor& t, int64_t count, const char* name) {
  const int64_t* id = t.data_ptr<int64_t>();
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    TORCH_CHECK(id[i] >= 0 && id[i] < count, name, " holds ", id[i], ", outside 0..", count - 1);
}

void check_long(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.scalar_type() == at::kLong && t.is_contiguous(), name, " must be a contiguous int64 tensor");
}

}  // namespace

// Returns stats (S, K, 3): loss, gradient norm before clipping, mean value of the actions taken.
at::Tensor gradient_steps(at::Tensor theta, at::Tensor target, at::Tensor grad, at::Tensor exp_avg,
                          at::Tensor exp_avg_sq, std::vector<at::Tensor> adam_steps, at::Tensor note, at::Tensor h0,
                          at::Tensor cell0, at::Tensor action, at::Tensor log_prior, at::Tensor reward_terms,
                          at::Tensor done, std::optional<at::Tensor> next_log_prior, at::Tensor algorithms,
                          at::Tensor rule_weights, int64_t hidden, double gamma, double tau, double learning_rate,
                          double max_grad_norm, bool per_tensor_clip, bool bootstrap_last_note, double beta1,
                          double beta2, double eps) {
  const std::pair<const at::Tensor*, const char*> floats[] = {
      {&theta, "theta"}, {&target, "target"}, {&grad, "grad"}, {&exp_avg, "exp_avg"}, {&exp_avg_sq, "exp_avg_sq"},
      {&h0, "h"},        {&cell0, "cell"},    {&log_prior, "log_prior"}, {&reward_terms, "reward_terms"},
      {&rule_weights, "rule_weights"}};
  for (const auto& [t, name] : floats) check_float(*t, name);
  const std::pair<const at::Tensor*, const char*> longs[] = {{&note, "note"}, {&action, "action"},
                                                             {&algorithms, "algorithms"}};
  for (const auto& [t, name] : longs) check_long(*t, name);
  TORCH_CHECK(done.scalar_type() == at::kBool && done.is_contiguous(), "done must be a contiguous bool tensor");
  const int64_t S = note.size(0), K = note.size(1), B = note.size(2), H = hidden;
  const int64_t G = 4 * H, P = theta.size(1);
  const int64_t A = (P - G * H - 2 * G) / (G + H + 1);
  const Offsets o(H, A);
  TORCH_CHECK(o.size == P && theta.size(0) == K, "theta (", theta.sizes(), ") does not fit the batch (K = ", K,
              ") and hidden size ", H);
  TORCH_CHECK(h0.sizes() == at::IntArrayRef({S, K, B, H}) && cell0.sizes() == h0.sizes(), "h and cell must be (S, K, B, H)");
  for (const at::Tensor* t : {&action, &log_prior, &reward_terms, &done})
    TORCH_CHECK(t->sizes() == note.sizes(), "action, log_prior, reward_terms and done must be (S, K, B) like note");
  for (const at::Tensor* t : {&target, &grad, &exp_avg, &exp_avg_sq})
    TORCH_CHECK(t->sizes() == theta.sizes(), "target, grad and Adam's moments must be shaped as theta (K, P)");
  TORCH_CHECK(rule_weights.numel() == K && algorithms.numel() == K, "one c and one algorithm per agent");
  check_ids(note, A, "note");
  check_ids(action, A, "action");
  check_ids(algorithms, 4, "algorithms");
  TORCH_CHECK(static_cast<int64_t>(adam_steps.size()) == K, "one Adam step counter per agent");
  for (const auto& step : adam_steps) check_float(step, "an Adam step counter");
  const int64_t* algorithm = algorithms.data_ptr<int64_t>();
  bool needs_prior = false;
  for (int64_t k = 0; k < K; ++k) needs_prior = needs_prior || algorithm[k] == kG;
  TORCH_CHECK(!needs_prior || next_log_prior.has_value(), "G needs next_log_prior (S, K, B, A)");
  if (needs_prior) {
    check_float(*next_log_prior, "next_log_prior");
    TORCH_CHECK(next_log_prior->sizes() == at::IntArrayRef({S, K, B, A}), "next_log_prior must be (S, K, B, A)");
  }

  const auto opt = theta.options();
  LstmStep online(K, B, H, opt), next(K, B, H, opt);
  at::Tensor next_values = at::empty({K, B, A}, opt);
  at::Tensor d_gates = at::empty({K, B, G}, opt);
  at::Tensor stats = at::empty({S, K, 3}, opt);
  std::vector<float> error(B), scratch(A), d_h(H), norms(K);
  at::Tensor g_hh = param_view(grad, o.w_hh, G, H);
  const at::Tensor w_o_target = param_view(target, o.w_o, A, H).transpose(1, 2);
  const float* rule_weight = rule_weights.data_ptr<float>();
  const float two_over_b = 2.0f / static_cast<float>(B);

  for (int64_t s = 0; s < S; ++s) {
    const int64_t* notes = note.data_ptr<int64_t>() + s * K * B;
    const int64_t* actions = action.data_ptr<int64_t>() + s * K * B;
    const at::Tensor h_s = h0[s], cell_s = cell0[s];
    online.run(theta, o, H, A, notes, h_s, cell_s);
    next.run(target, o, H, A, actions, online.h, online.cell);
    const float* tb_o = target.data_ptr<float>();
    float* nv = next_values.data_ptr<float>();
    for (int64_t k = 0; k < K; ++k)
      for (int64_t b = 0; b < B; ++b) std::copy_n(tb_o + k * P + o.b_o, A, nv + (k * B + b) * A);
    add_product(next_values, next.h, w_o_target);

    const float* th = theta.data_ptr<float>();
    float* gr = grad.data_ptr<float>();
    const float* cell_prev = cell_s.data_ptr<float>();
    const float* h1 = online.h.data_ptr<float>();
    const float* tanh_cell1 = online.tanh_cell.data_ptr<float>();
    const float* gate = online.gates.data_ptr<float>();
    float* dg = d_gates.data_ptr<float>();
    const float* lp = log_prior.data_ptr<float>() + s * K * B;
    const float* mt = reward_terms.data_ptr<float>() + s * K * B;
    const bool* finished = done.data_ptr<bool>() + s * K * B;
    const float* prior_next = needs_prior ? next_log_prior->data_ptr<float>() + s * K * B * A : nullptr;
    float* stat = stats.data_ptr<float>() + s * K * 3;
    for (int64_t k = 0; k < K; ++k) {
      const float* w_o = th + k * P + o.w_o;
      const float* b_o = th + k * P + o.b_o;
      float* g_row = gr + k * P;
      std::fill(g_row + o.w_ih, g_row + o.w_ih + G * A, 0.0f);
      std::fill(g_row + o.b_ih, g_row + o.b_ih + G, 0.0f);
      std::fill(g_row + o.w_o, g_row + o.b_o + A, 0.0f);
      float loss = 0.0f, value_sum = 0.0f;
      for (int64_t b = 0; b < B; ++b) {  // TD error of each transition
        const int64_t r = k * B + b, a = actions[r];
        float value = 0.0f;
        for (int64_t j = 0; j < H; ++j) value += w_o[a * H + j] * h1[r * H + j];
        value += b_o[a];
        const float reward = (algorithm[k] == kQ || algorithm[k] == kPsi) ? lp[r] + mt[r] / rule_weight[k]
                                                                            : mt[r] / rule_weight[k];
        float boot = 0.0f;
        if (bootstrap_last_note || !finished[r])
          boot = next_value(algorithm[k], nv + r * A, prior_next ? prior_next + r * A : nullptr, A, scratch.data());
        error[b] = value - (reward + static_cast<float>(gamma) * boot);
        loss += error[b] * error[b];
        value_sum += value;
      }
      stat[k * 3 + 0] = loss / static_cast<float>(B);
      stat[k * 3 + 2] = value_sum / static_cast<float>(B);
      float* g_ih = g_row + o.w_ih;
      float* g_bih = g_row + o.b_ih;
      float* g_o = g_row + o.w_o;
      float* g_bo = g_row + o.b_o;
      for (int64_t b = 0; b < B; ++b) {  // backward through the head and the LSTM step (no BPTT, docs/spec.md §5)
        const int64_t r = k * B + b, a = actions[r], n = notes[r];
        const float d_value = error[b] * two_over_b;
        g_bo[a] += d_value;
        head_gradients(d_value, h1 + r * H, w_o + a * H, g_o + a * H, d_h.data(), H);
        float* d = dg + r * G;
        gate_gradients(gate + r * G, tanh_cell1 + r * H, cell_prev + r * H, d_h.data(), d, H);
        for (int64_t j = 0; j < G; ++j) {
          g_ih[j * A + n] += d[j];
          g_bih[j] += d[j];
        }
      }
      std::copy_n(g_bih, G, g_row + o.b_hh);
    }
    product(g_hh, d_gates.transpose(1, 2), h_s);

    for (int64_t k = 0; k < K; ++k) norms[k] = std::sqrt(sum_of_squares(gr + k * P, P));
    for (int64_t k = 0; k < K; ++k) stat[k * 3 + 1] = norms[k];
    if (per_tensor_clip) {
      const std::pair<int64_t, int64_t> parts[] = {{o.w_ih, G * A}, {o.w_hh, G * H}, {o.b_ih, G},
                                                   {o.b_hh, G},     {o.w_o, A * H},  {o.b_o, A}};
      for (const auto& [offset, size] : parts) {
        at::Tensor view = grad.narrow(1, offset, size);
        view.mul_((max_grad_norm / (at::linalg_vector_norm(view, 2, at::IntArrayRef{1}) + 1e-6)).clamp_max_(1.0)
                      .unsqueeze(1));
      }
    }
    float* avg = exp_avg.data_ptr<float>();
    float* avg_sq = exp_avg_sq.data_ptr<float>();
    float* th_mut = theta.data_ptr<float>();
    float* tgt = target.data_ptr<float>();
    for (int64_t k = 0; k < K; ++k) {
      // NaN in the norm makes the scale NaN and poisons the update, as in the Python step.
      const float scale = per_tensor_clip ? 1.0f : std::min(static_cast<float>(max_grad_norm) / (norms[k] + 1e-6f), 1.0f);
      float* step = adam_steps[k].data_ptr<float>();
      *step += 1.0f;
      const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(*step));
      const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(*step));
      clip_adam_lerp(th_mut + k * P, gr + k * P, avg + k * P, avg_sq + k * P, tgt + k * P, P, scale,
                     static_cast<float>(beta1), static_cast<float>(beta2),
                     static_cast<float>(learning_rate / bias_correction1),
                     static_cast<float>(std::sqrt(bias_correction2)), static_cast<float>(eps), static_cast<float>(tau));
    }
  }
  return stats;
}

// All values (K, N, A) after one LSTM step of K networks on the notes (K, N) from (h, cell), and the new state:
// agents/step/stacked.py's stacked_values, for choosing actions.
std::tuple<at::Tensor, at::Tensor, at::Tensor> step_values(at::Tensor theta, at::Tensor notes, at::Tensor h,
                                                           at::Tensor cell, int64_t hidden) {
  check_float(theta, "theta");
  check_float(h, "h");
  check_float(cell, "cell");
  check_long(notes, "notes");
  const int64_t K = notes.size(0), N = notes.size(1), H = hidden, G = 4 * H, P = theta.size(1);
  const int64_t A = (P - G * H - 2 * G) / (G + H + 1);
  const Offsets o(H, A);
  TORCH_CHECK(o.size == P && theta.size(0) == K, "theta (", theta.sizes(), ") does not fit K = ", K, ", H = ", H);
  TORCH_CHECK(h.sizes() == at::IntArrayRef({K, N, H}) && cell.sizes() == h.sizes(), "h and cell must be (K, N, H)");
  check_ids(notes, A, "notes");
  LstmStep step(K, N, H, theta.options());
  step.run(theta, o, H, A, notes.data_ptr<int64_t>(), h, cell);
  at::Tensor values = at::empty({K, N, A}, theta.options());
  const float* th = theta.data_ptr<float>();
  float* v = values.data_ptr<float>();
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) std::copy_n(th + k * P + o.b_o, A, v + (k * N + n) * A);
  add_product(values, step.h, param_view(theta, o.w_o, A, H).transpose(1, 2));
  return {values, step.h, step.cell};
}

TORCH_LIBRARY(rl_tuner, m) {
  m.def(
      "gradient_steps(Tensor(a!) theta, Tensor(b!) target, Tensor(c!) grad, Tensor(d!) exp_avg, "
      "Tensor(e!) exp_avg_sq, Tensor(f!)[] adam_steps, Tensor note, Tensor h, Tensor cell, Tensor action, "
      "Tensor log_prior, Tensor reward_terms, Tensor done, Tensor? next_log_prior, Tensor algorithms, "
      "Tensor rule_weights, int hidden, float gamma, float tau, float learning_rate, float max_grad_norm, "
      "bool per_tensor_clip, bool bootstrap_last_note, float beta1, float beta2, float eps) -> Tensor");
  m.def("step_values(Tensor theta, Tensor notes, Tensor h, Tensor cell, int hidden) -> (Tensor, Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(rl_tuner, CPU, m) {
  m.impl("gradient_steps", &gradient_steps);
  m.impl("step_values", &step_values);
}
