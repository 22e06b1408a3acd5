"""Many sessions, one process: computations in threads give their one-at-a-time results."""
from concurrent.futures import ThreadPoolExecutor

from core.profile import compute_profile
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
