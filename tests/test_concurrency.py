"""Many sessions, one process: computations in threads give their one-at-a-time results."""
from concurrent.futures import ThreadPoolExecutor

from core.per_layer import compute_profile
from core.spec import ModelSpec

SPECS = [ModelSpec(depth=12, width=32, batch_size=16, activation=activation, init=init,
                   seed=seed)
         for seed, (activation, init) in enumerate([
             ("tanh", "glorot_normal"), ("relu", "he_normal"), ("tanh", "orthogonal"),
             ("selu", "lecun_normal"), ("relu", "random_normal"), ("sigmoid", "glorot_uniform"),
             ("tanh", "random_uniform"), ("relu", "he_uniform")])]


def test_threads_reproduce_sequential_results_exactly():
    alone = [compute_profile(spec) for spec in SPECS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(compute_profile, SPECS * 2))
    for index, table in enumerate(together):
        assert table.equals(alone[index % len(SPECS)]), SPECS[index % len(SPECS)]


def test_threads_through_the_cached_profile_get_the_sequential_tables(monkeypatch):
    """core.per_layer's LRU under contention: hits, misses and evictions (3 entries for
    8 specs) interleaved by 4 threads; every caller gets the right table, a fresh copy."""
    import core
    from core.per_layer import _profile as cache
    alone = [compute_profile(spec) for spec in SPECS]
    monkeypatch.setattr(cache, "entries", 3)
    cache.clear()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            together = list(pool.map(core.profile, SPECS * 3))
        for index, table in enumerate(together):
            assert table.equals(alone[index % len(SPECS)]), SPECS[index % len(SPECS)]
        assert cache.size() <= 3
        # copies: a caller editing its table does not change what the next one gets
        together[-1]["signal_grad_norm"] = -1.0
        assert core.profile(SPECS[-1]).equals(alone[-1])
    finally:
        cache.clear()


def test_threads_training_at_once_get_the_sequential_runs():
    """core.training.train in threads (as several sessions would): same tables."""
    from core.training import TrainingSpec, train
    model = ModelSpec(depth=3, width=16, activation="relu", init="he_normal")
    runs = [(model, TrainingSpec(steps=6, eval_every=3, seed=seed, optimizer=optimizer))
            for seed, optimizer in enumerate(["sgd", "adam", "momentum"])]
    alone = [train(*run) for run in runs]
    with ThreadPoolExecutor(max_workers=3) as pool:
        together = list(pool.map(lambda run: train(*run), runs * 2))
    for index, table in enumerate(together):
        expected = alone[index % len(runs)]
        assert table.equals(expected), runs[index % len(runs)]
        assert table.attrs["training_spec"] == expected.attrs["training_spec"]
