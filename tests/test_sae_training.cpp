// SAE training on activations whose answer is known (a synthetic sparse
// dictionary), the hand-written gradients against ATen autograd, and the
// trainer's contract: schedules, dead features, determinism, checkpoints,
// NaN stop, cancellation. Sizes are small: 2 shared cores.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <malloc.h>

#include <QtTest>
#include <cmath>
#include <filesystem>
#include <limits>

#include "core/common/error.h"
#include "core/sae/activation_source.h"
#include "core/sae/adam.h"
#include "core/sae/geometric_median.h"
#include "core/sae/reconstruction_metrics.h"
#include "core/sae/sae_folder.h"
#include "core/sae/sae_trainer.h"
#include "core/sae/synthetic_activations.h"

namespace fs = std::filesystem;
using namespace saescope;
using namespace saescope::sae;

namespace {

const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/sae_training";

// The same losses as sae_train_step.h, written with autograd-tracked ATen ops.
TrainParams autograd_grads(const TrainParams& p0, const at::Tensor& x, const StepSettings& s,
                           double* loss_out) {
  TrainParams p;
  p.W_enc = p0.W_enc.clone().requires_grad_(true);
  p.b_enc = p0.b_enc.clone().requires_grad_(true);
  p.W_dec = p0.W_dec.clone().requires_grad_(true);
  p.b_dec = p0.b_dec.clone().requires_grad_(true);
  const at::Tensor xc = s.apply_b_dec_to_input ? x - p.b_dec : x;
  const at::Tensor pre = at::matmul(xc, p.W_enc) + p.b_enc;
  at::Tensor f;
  if (s.architecture == TrainArchitecture::Standard) {
    f = at::relu(pre);
  } else if (s.architecture == TrainArchitecture::TopK) {
    const at::Tensor idx = std::get<1>(pre.detach().topk(s.k, -1));
    f = at::zeros_like(pre).scatter(-1, idx, at::relu(pre.gather(-1, idx)));
  } else {
    const at::Tensor flat = at::relu(pre).reshape({-1});
    const at::Tensor idx = std::get<1>(flat.detach().topk(s.k * x.size(0), -1));
    f = at::zeros_like(flat).scatter(-1, idx, flat.gather(-1, idx)).view_as(pre);
  }
  const at::Tensor x_hat = at::matmul(f, p.W_dec) + p.b_dec;
  at::Tensor loss = (x_hat - x).pow(2).sum(-1).mean();
  if (s.architecture == TrainArchitecture::Standard)
    loss = loss + s.l1_coefficient * (f * p.W_dec.norm(2, {1})).sum(-1).mean();
  if (s.architecture != TrainArchitecture::Standard && s.dead_mask.defined()) {
    const int64_t n_dead = s.dead_mask.sum().item<int64_t>();
    const int64_t k_aux = std::min<int64_t>(x.size(1) / 2, n_dead);
    const double scale = std::min(static_cast<double>(n_dead) / (x.size(1) / 2), 1.0);
    const at::Tensor residual = (x - x_hat).detach();
    const at::Tensor masked = at::where(
        s.dead_mask.unsqueeze(0), pre, at::full_like(pre, -std::numeric_limits<float>::infinity()));
    const at::Tensor idx = std::get<1>(masked.detach().topk(k_aux, -1));
    const at::Tensor aux_f = at::zeros_like(pre).scatter(-1, idx, pre.gather(-1, idx));
    const at::Tensor rec = at::matmul(aux_f, p.W_dec) + p.b_dec;
    loss = loss + scale * s.aux_coefficient * (rec - residual).pow(2).sum(-1).mean();
  }
  loss.backward();
  *loss_out = loss.item<double>();
  return {p.W_enc.grad(), p.b_enc.grad(), p.W_dec.grad(), p.b_dec.grad()};
}

TrainOptions small_options(TrainArchitecture arch, int64_t steps) {
  TrainOptions o;
  o.architecture = arch;
  o.d_sae = 1024;
  o.k = 4;
  o.batch_size = 256;
  o.total_tokens = steps * 256;
  o.lr = 1e-2;
  o.lr_decay_steps = steps / 5;
  o.l1_coefficient = 0.1;
  o.l1_warm_up_steps = steps / 20;
  o.dead_feature_window = 200;
  o.progress_every_steps = 0;
  return o;
}

SyntheticDictionaryOptions small_dictionary() {
  SyntheticDictionaryOptions d;
  d.d_in = 128;
  d.n_directions = 512;
  d.mean_active = 2;
  d.seed = 7;
  return d;
}

// Yields `good` batches from `inner`, then batches full of NaN.
class PoisonedSource : public ActivationSource {
 public:
  PoisonedSource(ActivationSource& inner, int good) : inner_(inner), good_(good) {}
  int64_t d_in() const override { return inner_.d_in(); }
  at::Tensor next_batch(int64_t n) override {
    at::Tensor x = inner_.next_batch(n);
    return served_++ < good_ ? x : at::full_like(x, std::nan(""));
  }

 private:
  ActivationSource& inner_;
  int good_;
  int served_ = 0;
};

}  // namespace

class TestSaeTraining : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    // Small matrices gain nothing from threads, and on busy shared cores
    // OpenMP barriers cost more than the work.
    at::set_num_threads(1);
    // Keep freed tensor memory in the heap: glibc otherwise maps and unmaps
    // every large tensor, and the page faults cost more than the arithmetic.
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    fs::create_directories(kOut);
  }

  void gradientsMatchAutograd_data() {
    QTest::addColumn<int>("arch");
    QTest::addColumn<bool>("dead");
    QTest::addColumn<bool>("apply_b_dec");
    QTest::newRow("standard") << int(TrainArchitecture::Standard) << false << true;
    QTest::newRow("standard, no b_dec on input")
        << int(TrainArchitecture::Standard) << false << false;
    QTest::newRow("topk") << int(TrainArchitecture::TopK) << false << true;
    QTest::newRow("topk + auxk") << int(TrainArchitecture::TopK) << true << true;
    QTest::newRow("batchtopk + auxk") << int(TrainArchitecture::BatchTopK) << true << true;
  }
  void gradientsMatchAutograd() {
    QFETCH(int, arch);
    QFETCH(bool, dead);
    QFETCH(bool, apply_b_dec);
    at::manual_seed(3);
    const int64_t d = 12, s = 40, n = 20;
    TrainParams p{at::randn({d, s}) * 0.3, at::randn({s}) * 0.1, at::randn({s, d}) * 0.5,
                  at::randn({d}) * 0.2};
    const at::Tensor x = at::randn({n, d});
    StepSettings ss;
    ss.architecture = static_cast<TrainArchitecture>(arch);
    ss.apply_b_dec_to_input = apply_b_dec;
    ss.l1_coefficient = 0.7;
    ss.k = 5;
    ss.aux_coefficient = 0.5;
    if (dead) ss.dead_mask = at::arange(s).remainder(3).eq(0);  // 14 dead > k_aux = 6
    const StepResult r = sae_loss_and_grads(p, x, ss);
    double loss = 0;
    const TrainParams g = autograd_grads(p, x, ss, &loss);
    QVERIFY(std::abs(r.loss.item<double>() - loss) < 1e-4 * std::abs(loss));
    if (dead) QVERIFY(r.aux.item<double>() > 0);
    for (auto [mine, ref, name] : {std::tuple{r.grad.W_enc, g.W_enc, "W_enc"},
                                   {r.grad.b_enc, g.b_enc, "b_enc"},
                                   {r.grad.W_dec, g.W_dec, "W_dec"},
                                   {r.grad.b_dec, g.b_dec, "b_dec"}})
      QVERIFY2(at::allclose(mine, ref, 1e-4, 1e-5), name);
  }

  void adamStepMatchesFormula() {
    at::Tensor p = at::tensor({1.0f, -2.0f});
    Adam adam({p}, {0.9, 0.999, 1e-8});
    adam.step({at::tensor({0.5f, -4.0f})}, 0.1);
    // Step 1: m̂ = g, v̂ = g², so p −= lr·g/(|g| + eps).
    QVERIFY(at::allclose(p, at::tensor({0.9f, -1.9f}), 1e-6, 1e-6));
    adam.step({at::tensor({0.5f, 4.0f})}, 0.1);
    // Step 2, second entry: m = 0.9·0.1·(−4) + 0.1·4 = 0.04, m̂ = 0.04/0.19;
    // v = 0.999·0.001·16 + 0.001·16 = 0.031984, v̂ = v/(1 − 0.999²).
    const double m_hat = 0.04 / 0.19, v_hat = 0.031984 / (1 - 0.999 * 0.999);
    const double expect = -1.9 - 0.1 * m_hat / (std::sqrt(v_hat) + 1e-8);
    QVERIFY(std::abs(p[1].item<double>() - expect) < 1e-6);
  }

  void clipGradNorm() {
    at::Tensor a = at::tensor({3.0f}), b = at::tensor({4.0f});
    clip_grad_norm({a, b}, 1.0);
    QVERIFY(std::abs(a.item<double>() - 0.6) < 1e-5 && std::abs(b.item<double>() - 0.8) < 1e-5);
    at::Tensor c = at::tensor({0.3f});
    clip_grad_norm({c}, 1.0);
    QCOMPARE(c.item<float>(), 0.3f);
  }

  void geometricMedianIsRobust() {
    // In one dimension the geometric median is the median, whatever the outlier.
    const at::Tensor line = at::tensor({0.f, 1.f, 2.f, 3.f, 1000.f}).view({5, 1});
    QVERIFY(std::abs(geometric_median(line, 500, 1e-9).item<double>() - 2.0) < 1e-2);
    // Corners of a square plus one far point: close to the square's centre.
    const at::Tensor pts = at::tensor({0.f, 0.f, 2.f, 0.f, 0.f, 2.f, 2.f, 2.f}).view({4, 2});
    QVERIFY(at::allclose(geometric_median(pts), at::tensor({1.f, 1.f}), 1e-4, 1e-4));
  }

  // ---- the known answer -------------------------------------------------------
  void recoversSyntheticDictionary_data() {
    QTest::addColumn<int>("arch");
    QTest::newRow("standard") << int(TrainArchitecture::Standard);
    QTest::newRow("topk") << int(TrainArchitecture::TopK);
  }
  void recoversSyntheticDictionary() {
    QFETCH(int, arch);
    SyntheticSparseDictionary data(small_dictionary());
    TrainOptions o = small_options(static_cast<TrainArchitecture>(arch), 800);
    o.dead_feature_window = 50;
    const TrainResult r = train_sae(data, o);
    QCOMPARE(r.status, TrainStatus::Finished);
    QCOMPARE(r.tokens, o.total_tokens);
    const DictionaryRecovery rec =
        dictionary_recovery(data.directions(), r.sae.weights().W_dec, 0.9);
    const ReconstructionReport rep = evaluate_reconstruction(r.sae, data, 8192);
    qInfo("recovered %.3f (mean best cosine %.3f), EV %.3f, L0 %.2f, MSE %.4f",
          rec.fraction_recovered, rec.mean_max_cosine, rep.explained_variance, rep.l0, rep.mse);
    QVERIFY(rec.fraction_recovered >= 0.8);
    QVERIFY(rep.explained_variance >= 0.9);
    if (static_cast<TrainArchitecture>(arch) == TrainArchitecture::TopK) {
      // TopK keeps decoder rows at unit norm after every step (standard lets
      // them float: its L1 is weighted by the row norm instead).
      const at::Tensor norms = r.sae.weights().W_dec.norm(2, {1});
      QVERIFY(at::allclose(norms, at::ones_like(norms), 1e-4, 1e-4));
    }
  }

  void l1TradesL0ForMse() {
    SyntheticDictionaryOptions d = small_dictionary();
    d.d_in = 64;
    d.n_directions = 256;
    double prev_l0 = 1e9, prev_mse = -1;
    for (double l1 : {0.03, 0.1, 0.3}) {
      SyntheticSparseDictionary data(d);
      TrainOptions o = small_options(TrainArchitecture::Standard, 200);
      o.d_sae = 256;
      o.l1_coefficient = l1;
      const TrainResult r = train_sae(data, o);
      // The stream goes on past the training tokens: held-out draws, the same for all three.
      const ReconstructionReport rep = evaluate_reconstruction(r.sae, data, 8192);
      qInfo("l1 %.2f: L0 %.2f, MSE %.4f", l1, rep.l0, rep.mse);
      QVERIFY(rep.l0 < prev_l0);
      QVERIFY(rep.mse > prev_mse);
      prev_l0 = rep.l0;
      prev_mse = rep.mse;
    }
  }

  void sameSeedSameWeights() {
    auto run = [](uint64_t seed) {
      SyntheticSparseDictionary data(small_dictionary());
      TrainOptions o = small_options(TrainArchitecture::TopK, 30);
      o.d_sae = 256;
      o.dead_feature_window = 5;  // AuxK in play too
      o.seed = seed;
      return train_sae(data, o).sae;
    };
    const Sae a = run(11), b = run(11), c = run(12);
    for (auto [x, y] : {std::pair{a.weights().W_enc, b.weights().W_enc},
                        {a.weights().W_dec, b.weights().W_dec},
                        {a.weights().b_enc, b.weights().b_enc},
                        {a.weights().b_dec, b.weights().b_dec}})
      QVERIFY(at::equal(x, y));
    QVERIFY(!at::equal(a.weights().W_dec, c.weights().W_dec));
  }

  void batchTopKIsSavedAsJumpRelu() {
    SyntheticSparseDictionary data(small_dictionary());
    TrainOptions o = small_options(TrainArchitecture::BatchTopK, 150);
    o.d_sae = 512;
    const TrainResult r = train_sae(data, o);
    QCOMPARE(r.sae.config().architecture, Architecture::JumpReLU);
    const at::Tensor t = r.sae.weights().threshold;
    QVERIFY(t.min().item<float>() > 0);
    QCOMPARE(t.min().item<float>(), t.max().item<float>());  // one shared threshold
    const ReconstructionReport rep = evaluate_reconstruction(r.sae, data, 4096);
    QVERIFY2(rep.l0 > 0.5 * o.k && rep.l0 < 2.0 * o.k, std::to_string(rep.l0).c_str());
    const std::string dir = kOut + "/batchtopk";
    save_sae(r.sae, dir);
    QCOMPARE(load_sae(dir).config().architecture, Architecture::JumpReLU);
  }

  // ---- the trainer's contract -------------------------------------------------
  void schedulesAndProgress() {
    SyntheticSparseDictionary data(small_dictionary());
    TrainOptions o = small_options(TrainArchitecture::Standard, 40);
    o.d_sae = 128;
    o.lr = 1e-3;
    o.lr_warm_up_steps = 10;
    o.lr_decay_steps = 10;
    o.l1_warm_up_steps = 20;
    o.progress_every_steps = 1;
    std::vector<TrainProgress> seen;
    train_sae(data, o, [&](const TrainProgress& p) { seen.push_back(p); });
    QCOMPARE(seen.size(), size_t(40));
    QVERIFY(std::abs(seen[0].lr - 1e-4) < 1e-12);  // warm-up: lr·1/10
    QVERIFY(std::abs(seen[9].lr - 1e-3) < 1e-12);
    QVERIFY(std::abs(seen[20].lr - 1e-3) < 1e-12);
    QVERIFY(std::abs(seen[39].lr - 1e-4) < 1e-12);  // decayed to lr/10
    QCOMPARE(seen[0].l1_coefficient, 0.0);          // L1 warm-up from zero
    QVERIFY(std::abs(seen[10].l1_coefficient - 0.05) < 1e-12);
    QVERIFY(std::abs(seen[25].l1_coefficient - 0.1) < 1e-12);
    for (size_t i = 0; i < seen.size(); ++i) {
      QCOMPARE(seen[i].step, int64_t(i + 1));
      QCOMPARE(seen[i].tokens, int64_t((i + 1) * 256));
      QVERIFY(seen[i].tokens_per_s > 0 && seen[i].mse > 0 && seen[i].l0 > 0);
      QVERIFY(std::abs(seen[i].loss - (seen[i].mse + seen[i].l1 + seen[i].aux)) <
              1e-4 * seen[i].loss);
    }
  }

  void deadFeaturesFollowTheWindow_data() {
    QTest::addColumn<int>("window");
    QTest::newRow("5 steps") << 5;
    QTest::newRow("15 steps") << 15;
  }
  void deadFeaturesFollowTheWindow() {
    QFETCH(int, window);
    SyntheticSparseDictionary data(small_dictionary());
    TrainOptions o = small_options(TrainArchitecture::Standard, 60);
    o.d_sae = 128;
    o.l1_coefficient = 1000;  // kills every feature within a few steps
    o.l1_warm_up_steps = 0;
    o.dead_feature_window = window;
    o.progress_every_steps = 1;
    std::vector<double> dead;
    train_sae(data, o, [&](const TrainProgress& p) { dead.push_back(p.dead_fraction); });
    for (int s = 0; s < window; ++s) QCOMPARE(dead[s], 0.0);  // not dead before the window ends
    QVERIFY2(dead.back() > 0.5, std::to_string(dead.back()).c_str());
  }

  void bDecStartsAtGeometricMedianOrMean() {
    for (BDecInit init : {BDecInit::GeometricMedian, BDecInit::Mean}) {
      SyntheticSparseDictionary data(small_dictionary());
      TrainOptions o = small_options(TrainArchitecture::Standard, 1);
      o.d_sae = 64;
      o.lr = 1e-12;  // Adam moves each weight by about lr: b_dec stays where it started
      o.b_dec_init = init;
      const Sae sae = train_sae(data, o).sae;
      SyntheticSparseDictionary again(small_dictionary());
      const at::Tensor sample = again.next_batch(o.batch_size);
      const at::Tensor want = init == BDecInit::Mean ? sample.mean({0}) : geometric_median(sample);
      QVERIFY(at::allclose(sae.weights().b_dec, want, 1e-5, 1e-5));
      if (init == BDecInit::GeometricMedian)
        QVERIFY(!at::allclose(sae.weights().b_dec, sample.mean({0}), 1e-3, 1e-3));
    }
  }

  void expectedAverageScalingIsFolded() {
    auto run = [](double input_scale) {
      SyntheticSparseDictionary inner(small_dictionary());
      struct Scaled : ActivationSource {
        ActivationSource& in;
        double s;
        Scaled(ActivationSource& i, double sc) : in(i), s(sc) {}
        int64_t d_in() const override { return in.d_in(); }
        at::Tensor next_batch(int64_t n) override { return in.next_batch(n) * s; }
      } data(inner, input_scale);
      TrainOptions o = small_options(TrainArchitecture::Standard, 10);
      o.d_sae = 128;
      o.normalize_activations = Normalization::ExpectedAverageOnlyIn;
      return train_sae(data, o).sae;
    };
    const Sae a = run(1.0), b = run(20.0);
    QCOMPARE(b.config().normalize_activations, Normalization::None);  // folded, as SAELens
    // Both trained on the same normalised data: b works in units 20× larger.
    QVERIFY(at::allclose(b.weights().W_dec, a.weights().W_dec * 20, 1e-3, 1e-3));
    QVERIFY(at::allclose(b.weights().W_enc * 20, a.weights().W_enc, 1e-3, 1e-3));
  }

  void checkpointsAndNanStop() {
    const std::string ckpt = kOut + "/checkpoint";
    fs::remove_all(ckpt);
    TrainOptions o = small_options(TrainArchitecture::TopK, 40);
    o.d_sae = 128;
    o.checkpoint_dir = ckpt;
    o.checkpoint_every_tokens = 5 * 256;
    o.lr_decay_steps = 0;  // so a 10-step run follows the same schedule
    SyntheticSparseDictionary inner(small_dictionary());
    PoisonedSource poisoned(inner, /*good=*/12);  // 1 batch for init, 11 steps, then NaN
    const TrainResult r = train_sae(poisoned, o);
    QCOMPARE(r.status, TrainStatus::StoppedOnNaN);
    QCOMPARE(r.steps, int64_t(11));
    QVERIFY2(
        r.message.find("NaN") != std::string::npos && r.message.find(ckpt) != std::string::npos,
        r.message.c_str());
    QCOMPARE(r.last_checkpoint_tokens, int64_t(10 * 256));
    QVERIFY(at::isfinite(r.sae.weights().W_dec).all().item<bool>());
    // The checkpoint is exactly the SAE after 10 clean steps.
    SyntheticSparseDictionary clean(small_dictionary());
    TrainOptions ten = o;
    ten.checkpoint_dir.clear();
    ten.checkpoint_every_tokens = 0;
    ten.total_tokens = 10 * 256;
    const Sae want = train_sae(clean, ten).sae;
    const Sae saved = load_sae(ckpt);
    QVERIFY(at::equal(saved.weights().W_dec, want.weights().W_dec));
    QVERIFY(at::equal(saved.weights().b_dec, want.weights().b_dec));
    QVERIFY(saved.log_sparsity().defined());
  }

  void cancellationIsCheckedEveryStep() {
    SyntheticSparseDictionary data(small_dictionary());
    TrainOptions o = small_options(TrainArchitecture::Standard, 100);
    o.d_sae = 64;
    int calls = 0;
    bool cancelled = false;
    try {
      train_sae(data, o, {}, [&] { return ++calls > 3; });
    } catch (const Cancelled&) {
      cancelled = true;
    }
    QVERIFY(cancelled);
    QCOMPARE(calls, 4);
  }

  void stopsWhenTheSourceRunsDry() {
    TensorActivationSource rows(at::randn({256 * 4, 16}));
    TrainOptions o = small_options(TrainArchitecture::Standard, 100);
    o.d_sae = 32;
    const TrainResult r = train_sae(rows, o);
    QCOMPARE(r.status, TrainStatus::SourceExhausted);
    QCOMPARE(r.steps, int64_t(3));  // one batch went to b_dec's estimate
  }

  void refusesBadOptions() {
    SyntheticSparseDictionary data(small_dictionary());
    auto refuses = [&](const std::function<void(TrainOptions&)>& edit, const char* what) {
      TrainOptions o = small_options(TrainArchitecture::TopK, 2);
      edit(o);
      bool thrown = false;
      try {
        train_sae(data, o);
      } catch (const InputError& e) {
        thrown = std::string(e.what()).find(what) != std::string::npos;
        if (!thrown) qWarning("%s", e.what());
      }
      QVERIFY2(thrown, what);
    };
    refuses([](TrainOptions& o) { o.d_sae = 0; }, "d_sae");
    refuses([](TrainOptions& o) { o.k = 5000; }, "k must be");
    refuses([](TrainOptions& o) { o.autocast_bf16 = true; }, "CUDA");
    refuses([](TrainOptions& o) { o.device = "no-such-device"; }, "unknown device");
    refuses([](TrainOptions& o) { o.checkpoint_every_tokens = 100; }, "checkpoint folder");
    TensorActivationSource wrong(at::randn({300, 16}));
    TrainOptions o = small_options(TrainArchitecture::Standard, 2);
    o.batch_size = 100;
    struct Liar : ActivationSource {  // claims 16 dims, serves 8
      int64_t d_in() const override { return 16; }
      at::Tensor next_batch(int64_t n) override { return at::randn({n, 8}); }
    } liar;
    bool thrown = false;
    try {
      train_sae(liar, o);
    } catch (const InputError&) {
      thrown = true;
    }
    QVERIFY(thrown);
  }
};

QTEST_GUILESS_MAIN(TestSaeTraining)
#include "test_sae_training.moc"
