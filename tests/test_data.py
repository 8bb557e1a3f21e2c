"""Tests for helpers.data: shapes, dtypes, determinism, balance and input checks."""

import numpy as np
import pytest
import torch

from helpers.data import circles, digits, spirals, teacher, train_test_split


@pytest.mark.parametrize("make", [lambda **k: spirals(101, 0.1, **k),
                                  lambda **k: circles(101, 0.1, **k),
                                  lambda **k: teacher(101, 5, **k)])
def test_shapes_dtypes_and_determinism(make):
    X, y = make(seed=3)
    assert X.dtype == torch.float32 and y.dtype == torch.int64
    assert X.shape[0] == 101 and y.shape == (101,)
    assert X.ndim == 2 and y.ndim == 1
    X2, y2 = make(seed=3)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    X3, _ = make(seed=4)
    assert not torch.equal(X, X3)
    assert torch.isfinite(X).all()


@pytest.mark.parametrize("classes", [2, 3, 7])
def test_spirals_balanced_and_shuffled(classes):
    X, y = spirals(100, 0.2, seed=0, classes=classes)
    assert X.shape == (100, 2)
    counts = torch.bincount(y, minlength=classes)
    assert len(counts) == classes and counts.max() - counts.min() <= 1
    assert not torch.equal(y, torch.arange(100) % classes)  # shuffled


def test_spirals_geometry_without_noise():
    X, _ = spirals(200, 0.0, seed=0)
    r = X.norm(dim=1)
    assert r.min() >= 2 * 0.05 - 1e-6 and r.max() <= 2.0 + 1e-6


def test_circles_radii_and_balance():
    X, y = circles(100, 0.0, factor=0.3, seed=0)
    r = X.norm(dim=1)
    assert torch.allclose(r[y == 0], torch.ones(()), atol=1e-6)
    assert torch.allclose(r[y == 1], torch.full((), 0.3), atol=1e-6)
    assert int((y == 0).sum()) == int((y == 1).sum()) == 50


def test_teacher_classification_and_regression():
    X, y = teacher(200, in_features=6, classes=3, seed=0)
    assert X.shape == (200, 6) and y.dtype == torch.int64
    assert set(y.tolist()) <= {0, 1, 2} and len(set(y.tolist())) >= 2
    Xr, yr = teacher(200, in_features=6, task="regression", seed=0)
    assert yr.dtype == torch.float32 and yr.shape == (200,)
    assert torch.equal(Xr, X)
    _, noisy = teacher(200, in_features=6, task="regression", noise=0.5, seed=0)
    diff = (noisy - yr).double()
    assert 0.4 < diff.std().item() < 0.6  # the noise has the requested std


def test_digits():
    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype == torch.float32
    assert y.shape == (1797,) and y.dtype == torch.int64 and set(y.tolist()) == set(range(10))
    std = X.double().std(0, unbiased=False)
    assert torch.allclose(X.double().mean(0), torch.zeros(64, dtype=torch.float64), atol=1e-6)
    assert torch.all(((std - 1).abs() < 1e-5) | (std == 0))
    assert int((std == 0).sum()) >= 1  # constant border pixels stay at 0
    raw, _ = digits(standardize=False)
    assert raw.min() == 0.0 and raw.max() == 1.0


def test_train_test_split():
    X, y = spirals(100, 0.1, seed=0)
    Xtr, ytr, Xte, yte = train_test_split(X, y, 0.2, seed=1)
    assert (len(Xtr), len(Xte)) == (80, 20) and len(ytr) == 80 and len(yte) == 20
    merged = torch.cat([Xtr, Xte])
    assert torch.equal(merged[merged[:, 0].argsort()], X[X[:, 0].argsort()])
    again = train_test_split(X, y, 0.2, seed=1)
    assert torch.equal(again[0], Xtr) and torch.equal(again[3], yte)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: spirals(0), ValueError, "n must be an int >= 2, got 0"),
        (lambda: spirals(2, classes=3), ValueError, "n must be an int >= 3"),
        (lambda: spirals(10.5), TypeError, "n must be an int"),
        (lambda: spirals(True), TypeError, "n must be an int"),
        (lambda: spirals(10, -0.1), ValueError, "noise must be finite and >= 0"),
        (lambda: spirals(10, float("nan")), ValueError, "noise must be finite and >= 0"),
        (lambda: spirals(10, "a"), TypeError, "noise must be a number"),
        (lambda: spirals(10, classes=1), ValueError, "classes must be between 2 and 10"),
        (lambda: spirals(10, classes=11), ValueError, "classes must be between 2 and 10"),
        (lambda: spirals(10, classes="3"), TypeError, "classes must be an int"),
        (lambda: spirals(10, classes=2.0), TypeError, "classes must be an int"),
        (lambda: circles(1), ValueError, "n must be an int >= 2"),
        (lambda: circles(10, -1.0), ValueError, "noise must be finite and >= 0"),
        (lambda: circles(10, factor=1.5), ValueError, "factor must be between 0 and 1"),
        (lambda: circles(10, factor=0), ValueError, "factor must be between 0 and 1"),
        (lambda: teacher(0), ValueError, "n must be an int >= 1"),
        (lambda: teacher(10, noise=-1), ValueError, "noise must be finite and >= 0"),
        (lambda: teacher(10, task="ranking"), ValueError,
         "unknown task 'ranking'; valid choices: classification, regression"),
        (lambda: teacher(10, classes=1), ValueError, "classes must be an int >= 2"),
        (lambda: teacher(10, in_features=0), ValueError, "in_features must be an int >= 1"),
        (lambda: teacher(10, depth=0), ValueError, "depth must be an int >= 1"),
        (lambda: teacher(10, width=2.5), TypeError, "width must be an int"),
        (lambda: train_test_split(torch.zeros(10, 2), torch.zeros(10), 0.0), ValueError,
         "test_fraction must be between 0 and 1"),
        (lambda: train_test_split(torch.zeros(10, 2), torch.zeros(10), 1.0), ValueError,
         "test_fraction must be between 0 and 1"),
        (lambda: train_test_split(torch.zeros(10, 2), torch.zeros(9)), ValueError,
         "one label per example"),
        (lambda: train_test_split(torch.zeros(1, 2), torch.zeros(1)), ValueError,
         "at least 2 examples"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_numpy_integers_accepted():
    X, y = spirals(np.int64(20), 0.1)
    assert X.shape == (20, 2) and y.shape == (20,)


# --- memory tasks -------------------------------------------------------------------------

from helpers.data import adding_problem, first_symbol_task  # noqa: E402


@pytest.mark.parametrize("distractors", ["random", "blank"])
def test_first_symbol_task(distractors):
    X, y = first_symbol_task(200, 7, symbols=3, distractors=distractors, seed=1)
    assert X.shape == (200, 7, 4) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.all(X.sum(-1) == 1)  # one-hot at every step
    assert torch.equal(X[:, 0, :3].argmax(1), y) and torch.all(X[:, 0, 3] == 0)
    assert set(y.tolist()) == {0, 1, 2}
    if distractors == "blank":
        assert torch.all(X[:, 1:, 3] == 1)
    else:
        assert torch.all(X[:, 1:, 3] == 0)
        assert len(set(X[:, 1:, :3].argmax(-1).flatten().tolist())) == 3
    X2, y2 = first_symbol_task(200, 7, symbols=3, distractors=distractors, seed=1)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    assert not torch.equal(first_symbol_task(200, 7, 3, distractors, seed=2)[1], y)


def test_adding_problem():
    X, y = adding_problem(500, 10, seed=0)
    assert X.shape == (500, 10, 2) and y.shape == (500,) and y.dtype == torch.float32
    marks = X[:, :, 1]
    assert torch.all(marks.sum(1) == 2)
    assert torch.all(marks[:, :5].sum(1) == 1) and torch.all(marks[:, 5:].sum(1) == 1)
    torch.testing.assert_close(y, (X[:, :, 0] * marks).sum(1))
    assert X[:, :, 0].min() >= 0 and X[:, :, 0].max() < 1
    # the constant prediction 1 has MSE 1/6: the baseline the lesson quotes
    big = adding_problem(200_000, 4, seed=1)[1]
    assert float(((big - 1) ** 2).mean()) == pytest.approx(1 / 6, rel=0.01)
    assert torch.equal(adding_problem(5, 3, seed=4)[0], adding_problem(5, 3, seed=4)[0])


@pytest.mark.parametrize("call, error, match", [
    (lambda: first_symbol_task(0), ValueError, "n must be"),
    (lambda: first_symbol_task(10, 0), ValueError, "steps"),
    (lambda: first_symbol_task(10, 5, symbols=1), ValueError, "symbols"),
    (lambda: first_symbol_task(10, 5, distractors="noise"), ValueError, "valid choices"),
    (lambda: first_symbol_task(10, 2.5), TypeError, "must be an int"),
    (lambda: first_symbol_task(10**6, 10**4), ValueError, "too large"),
    (lambda: first_symbol_task(10, 5, seed=-1), ValueError, "seed"),
    (lambda: adding_problem(10, 1), ValueError, "steps"),
    (lambda: adding_problem(True, 5), TypeError, "must be an int"),
    (lambda: adding_problem(10**6, 10**3), ValueError, "too large"),
])
def test_memory_task_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- tests that kill surviving mutants of numbers the lessons show -------------------------


def _arm_geometry(X, y, classes):
    """Radius/2 = position t along the arm; the angle must equal 3 pi t + 2 pi y / classes."""
    X, y = np.asarray(X, float), np.asarray(y)
    t = np.hypot(X[:, 0], X[:, 1]) / 2.0
    want = 3.0 * np.pi * t + 2.0 * np.pi * y / classes
    got = np.arctan2(X[:, 1], X[:, 0])
    return t, np.angle(np.exp(1j * (got - want)))  # wrapped to (-pi, pi]


def test_spiral_arms_without_noise_lie_on_their_documented_curves():
    for classes in (2, 3, 5):
        X, y = spirals(300, noise=0.0, seed=2, classes=classes)
        t, err = _arm_geometry(X.numpy(), y.numpy(), classes)
        assert np.abs(err).max() < 1e-5  # float32 coordinates
        assert t.min() >= 0.05 - 1e-6 and t.max() <= 1.0 + 1e-6
        # 1.5 turns per arm: positions spread over the whole arm, not one point
        assert t.max() - t.min() > 0.8
        np.testing.assert_array_equal(np.bincount(y.numpy()), [300 // classes] * classes)


def test_noise_is_independent_gaussian_jitter_of_the_given_std():
    X0, y0 = spirals(4000, noise=0.0, seed=5)
    X1, y1 = spirals(4000, noise=0.1, seed=5)
    # same positions and order for the same seed: the difference is the jitter alone
    np.testing.assert_array_equal(y0.numpy(), y1.numpy())
    jitter = (X1 - X0).numpy()
    assert jitter.std(0) == pytest.approx([0.1, 0.1], rel=0.05)
    assert abs(jitter.mean()) < 0.01 and abs(np.corrcoef(jitter.T)[0, 1]) < 0.05
    assert len(np.unique(jitter[:, 0])) == 4000  # one draw per coordinate, not one shift
    Xc, yc = circles(4000, noise=0.0, factor=0.5, seed=1)
    r = np.hypot(*Xc.numpy().T)
    np.testing.assert_allclose(r, np.where(yc.numpy() == 1, 0.5, 1.0), rtol=1e-6)
    angle = np.arctan2(Xc.numpy()[:, 1], Xc.numpy()[:, 0])
    assert np.histogram(angle, bins=8, range=(-np.pi, np.pi))[0].min() > 400  # all around
    Xn, _ = circles(4000, noise=0.1, factor=0.5, seed=1)
    assert (Xn - Xc).numpy().std(0) == pytest.approx([0.1, 0.1], rel=0.05)


def test_generators_defaults():
    for fn, explicit in ((spirals, dict(n=1000, noise=0.1, seed=0, classes=2)),
                         (circles, dict(n=1000, noise=0.1, factor=0.5, seed=0))):
        a, b = fn(), fn(**explicit)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    a, b = teacher(), teacher(1000, 10, 2, 32, depth=2, noise=0.0, seed=0)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert a[0].shape == (1000, 10) and set(a[1].tolist()) == {0, 1}


def test_teacher_regression_defaults_to_no_noise_and_its_noise_is_centred():
    X, y = teacher(300, 4, task="regression", seed=1)
    _, clean = teacher(300, 4, task="regression", noise=0.0, seed=1)
    assert torch.equal(y, clean)
    _, noisy = teacher(300, 4, task="regression", noise=0.5, seed=1)
    assert abs((noisy - clean).double().mean().item()) < 0.1  # N(0, 0.5^2) jitter
    assert teacher(20, 3, width=1, seed=0)[0].shape == (20, 3)  # one hidden unit is valid
    with pytest.raises(ValueError, match="^width must be"):
        teacher(20, 3, width=0)


def test_train_test_split_keeps_one_example_on_each_side_and_is_a_partition():
    """k = round(n * test_fraction) test examples, at least 1 and at most n - 1; the two
    parts are disjoint and together hold every example once."""
    X = torch.arange(10.0)[:, None]
    y = torch.arange(10)
    for frac, k in [(0.01, 1), (0.3, 3), (0.9, 9), (0.99, 9)]:
        Xtr, ytr, Xte, yte = train_test_split(X, y, frac, seed=2)
        assert len(yte) == k and len(ytr) == 10 - k
        assert sorted(torch.cat([ytr, yte]).tolist()) == list(range(10))
        assert torch.equal(Xtr[:, 0].long(), ytr) and torch.equal(Xte[:, 0].long(), yte)
    Xtr, ytr, Xte, yte = train_test_split(X[:2], y[:2], 0.5)  # the smallest data set
    assert len(ytr) == len(yte) == 1 and {int(ytr), int(yte)} == {0, 1}
    with pytest.raises(ValueError, match="at least 2 examples"):
        train_test_split(X[:1], y[:1])


def test_memory_task_sizes_at_their_bounds():
    """The smallest sizes work; one more than the largest is refused, naming the argument."""
    X, y = first_symbol_task(3, 1, symbols=2, seed=0)
    assert X.shape == (3, 1, 3) and torch.equal(X[:, 0, :2].argmax(1), y)
    assert first_symbol_task(2, 3, symbols=100, distractors="blank")[0].shape == (2, 3, 101)
    X, y = adding_problem(1, 2, seed=0)
    assert X.shape == (1, 2, 2) and X[0, :, 1].tolist() == [1.0, 1.0]
    assert y.item() == pytest.approx(X[0, :, 0].sum().item())
    for call, match in [(lambda: first_symbol_task(10**7 + 1, 1, symbols=2), "^n must be"),
                        (lambda: first_symbol_task(1, 10**5 + 1, symbols=2), "^steps must be"),
                        (lambda: first_symbol_task(1, 1, symbols=101), "^symbols must be"),
                        (lambda: first_symbol_task(1, 1, distractors="x"), "^unknown distractors"),
                        (lambda: adding_problem(10**7 + 1, 2), "^n must be"),
                        (lambda: adding_problem(0, 2), "^n must be"),
                        (lambda: adding_problem(1, 10**5 + 1), "^steps must be")]:
        with pytest.raises(ValueError, match=match):
            call()


def test_adding_problem_marks_are_drawn_per_sequence():
    """Each sequence has its own two marked steps, one anywhere in each half."""
    X, _ = adding_problem(400, 10, seed=3)
    marks = X[:, :, 1].numpy()
    first, second = marks[:, :5].argmax(1), 5 + marks[:, 5:].argmax(1)
    assert set(first.tolist()) == set(range(5)) and set(second.tolist()) == set(range(5, 10))
    np.testing.assert_array_equal(marks.sum(1), 2.0)


def test_lesson_data_is_the_lessons_spirals_for_any_seed_and_size():
    from helpers.data import lesson_data, spirals

    for n, seed in ((256, 0), (64, 3)):
        X, y = lesson_data(n, seed=seed)
        X2, y2 = spirals(n, noise=0.1, seed=seed)
        assert torch.equal(X, X2) and torch.equal(y, y2) and X.shape == (n, 2)
    assert not torch.equal(lesson_data(64, seed=3)[0], lesson_data(64, seed=4)[0])


@pytest.mark.parametrize("depth", [1, 3])
def test_teacher_is_the_documented_tanh_network(depth):
    """Recomputed in float64 with torch from the same generator's draws (inputs, hidden
    weights N(0, 1.5^2 / fan_in), output weights N(0, 1 / width), then the noise): the
    classes are the output's arg-max, the regression target its first unit plus noise."""
    n, d, c, w = 300, 5, 3, 16
    rng = np.random.default_rng(4)
    X = torch.from_numpy(rng.standard_normal((n, d)))
    h, fan_in = X, d
    for _ in range(depth):
        W = torch.from_numpy(rng.standard_normal((fan_in, w))) * (1.5 / fan_in ** 0.5)
        h = torch.tanh(h @ W)
        fan_in = w
    out = h @ torch.from_numpy(rng.standard_normal((w, c))) * (1.0 / w ** 0.5)
    noise = torch.from_numpy(rng.standard_normal(n)) * 0.3
    Xc, yc = teacher(n, d, classes=c, width=w, depth=depth, seed=4)
    torch.testing.assert_close(Xc, X.float())
    assert torch.equal(yc, out.argmax(1))
    assert len(torch.unique(yc)) == c  # every class occurs
    _, yr = teacher(n, d, classes=c, width=w, depth=depth, task="regression", noise=0.3, seed=4)
    torch.testing.assert_close(yr, (out[:, 0] + noise).float())


def test_lesson_data_is_256_spiral_points_with_noise_0_1():
    from helpers.data import lesson_data

    for got, want in ((lesson_data(), spirals(256, noise=0.1, seed=0)),
                      (lesson_data(40, seed=3), spirals(40, noise=0.1, seed=3))):
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])


def test_split_and_memory_task_defaults():
    X, y = spirals(40, seed=1)
    for a, b in zip(train_test_split(X, y), train_test_split(X, y, test_fraction=0.25, seed=0),
                    strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ValueError) as info:
        train_test_split(X[:1], y[:1])
    assert str(info.value) == "need at least 2 examples and one label per example"
    for got, want in ((first_symbol_task(), first_symbol_task(256, 20, 4, "random", seed=0)),
                      (adding_problem(), adding_problem(256, 50, seed=0))):
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
    assert first_symbol_task()[0].shape == (256, 20, 5)
    assert adding_problem()[0].shape == (256, 50, 2)


def test_memory_tasks_refuse_sizes_over_their_limits():
    """Checked before anything is allocated: one value over each limit."""
    with pytest.raises(ValueError) as info:
        first_symbol_task(1_000_001, 40, 4)
    assert str(info.value) == ("n * steps * (symbols + 1) = 200,000,200 values is too large "
                               "(limit 2e8); use fewer sequences or steps")
    with pytest.raises(ValueError) as info:
        adding_problem(1_000_001, 100)
    assert str(info.value) == "n * steps = 100,000,100 is too large (limit 1e8)"


def test_task_data_names_the_memory_tasks():
    from helpers.data import TASKS, task_data

    assert TASKS == ("adding", "first_symbol")
    for got, want in ((task_data("adding", 12, 6, seed=2), adding_problem(12, 6, seed=2)),
                      (task_data("first_symbol", 12, 6, seed=2, symbols=3, distractors="blank"),
                       first_symbol_task(12, 6, 3, "blank", seed=2)),
                      (task_data("first_symbol", 12, 6), first_symbol_task(12, 6, 4, "random"))):
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
    with pytest.raises(ValueError) as info:
        task_data("copy", 12, 6)
    assert str(info.value) == "unknown task 'copy'; valid choices: adding, first_symbol"
