"""Vaccine preferences of the demo population, in the shares of early 2021.

Serbia's registration form of January 2021 let people name the vaccines they
wanted or tick "any". Reported shares were about 40 % Sputnik V, 30 %
Pfizer-BioNTech and a third "any" (they overlap, as people could name more
than one). The demo fixes a split of the *first* choice that sums to 100 %:

=============  =====
any            32 %
Sputnik V      38 %
Comirnaty      27 %
BBIBP-CorV      2 %
Vaxzevria       1 %
=============  =====

Spikevax was not used in Serbia in 2021 and is nobody's choice. Of the people
who name a vaccine, 30 % also name a second one and a third of those a third
(weighted by the same shares), which is how the overlapping figures arose.

Nobody prefers a vaccine they could not get: a product is a choice only for
people within its age limits on the start day and without a condition that
contraindicates it (a 17-year-old cannot choose Sputnik V; under the March
2021 rules neither can a 70-year-old). Those restrictions would shift the
shares, so the first-choice weights are fitted by iterative proportional
fitting: each product's weight is scaled until its share of the *whole*
population meets the target, as far as eligibility allows (when too few
people may choose a product to reach its share, it gets every one of them
whose other choices allow it, and the rest goes to the other options).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from domain.wire import ANY_VACCINE

FIRST_CHOICE_SHARES: Final[Mapping[str, float]] = {
    ANY_VACCINE: 0.32,
    "sputnik-v-1": 0.38,
    "comirnaty": 0.27,
    "bbibp": 0.02,
    "vaxzevria": 0.01,
}
SECOND_CHOICE_PROBABILITY: Final = 0.30
THIRD_CHOICE_PROBABILITY: Final = 1 / 3
_FIT_ROUNDS: Final = 200


@dataclass(frozen=True)
class Preferences:
    """Each person's preference list, as an index into `lists`.

    `lists[i]` is a tuple of product ids, most wanted first, or ``("any",)``;
    `options` are the possible first choices (``"any"`` and products).
    """

    index: npt.NDArray[np.int64]
    lists: tuple[tuple[str, ...], ...]
    options: tuple[str, ...]

    def slice(self, start: int, stop: int) -> Preferences:
        """The preferences of people `start` to `stop - 1`."""
        return Preferences(self.index[start:stop], self.lists, self.options)

    def first_choices(self) -> npt.NDArray[np.int64]:
        """Each person's first choice, as an index into `options`."""
        first = np.array([self.options.index(chosen[0]) for chosen in self.lists], dtype=np.int64)
        return first[self.index]


def fit_weights(
    class_sizes: npt.NDArray[np.int64],
    eligible: npt.NDArray[np.bool_],
    targets: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Option weights whose shares over all classes come as close to `targets` as allowed.

    ``eligible[c, o]`` says whether people of class `c` may choose option `o`;
    each class chooses among its eligible options in proportion to the
    weights. Every class must have at least one eligible option.
    """
    if not eligible.any(axis=1).all():
        raise ValueError("every class needs at least one eligible option")
    total = class_sizes.sum()
    weights = targets.astype(np.float64).copy()
    for _ in range(_FIT_ROUNDS):
        shares = _shares(class_sizes, eligible, weights) / total
        reachable = (shares > 0) & (targets > 0)
        weights[reachable] *= targets[reachable] / shares[reachable]
        weights /= weights.sum()
    return weights


def _shares(
    class_sizes: npt.NDArray[np.int64],
    eligible: npt.NDArray[np.bool_],
    weights: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    within = np.where(eligible, weights, 0.0)
    norm = within.sum(axis=1, keepdims=True)
    probabilities = np.divide(within, norm, out=np.zeros_like(within), where=norm > 0)
    shares: npt.NDArray[np.float64] = (class_sizes[:, None] * probabilities).sum(axis=0)
    return shares


def choose_preferences(
    rng: np.random.Generator,
    person_class: npt.NDArray[np.int64],
    class_eligible: npt.NDArray[np.bool_],
    options: Sequence[str],
) -> Preferences:
    """Draw everyone's preference list.

    ``class_eligible[c, o]`` says whether people of class `c` may choose
    ``options[o]`` (``"any"`` must be eligible for everyone); `person_class`
    gives each person's class. `options` lists ``"any"`` and the products
    that can start a series; their target shares are `FIRST_CHOICE_SHARES`
    (0 for a product it does not name).
    """
    count = len(person_class)
    any_index = list(options).index(ANY_VACCINE)
    if not class_eligible[:, any_index].all():
        raise ValueError("'any' must be open to everyone")
    targets = np.array([FIRST_CHOICE_SHARES.get(o, 0.0) for o in options])
    sizes = np.bincount(person_class, minlength=len(class_eligible))
    weights = fit_weights(sizes, class_eligible, targets)

    eligible = class_eligible[person_class]
    within = np.where(eligible, weights, 0.0)
    cumulative = np.cumsum(within / within.sum(axis=1, keepdims=True), axis=1)
    first = (rng.random(count)[:, None] > cumulative).sum(axis=1)
    first = np.minimum(first, len(options) - 1)

    # Further choices: a weighted random order (Gumbel top-k) of the other
    # eligible products, by the same target shares.
    product_weight = np.where(np.arange(len(options)) == any_index, 0.0, targets)
    with np.errstate(divide="ignore"):
        keys = np.where(eligible, np.log(product_weight), -np.inf) + rng.gumbel(
            size=(count, len(options))
        )
    keys[np.arange(count), first] = -np.inf
    order = np.argsort(-keys, axis=1)
    available = np.isfinite(keys).sum(axis=1)
    extra = (rng.random(count) < SECOND_CHOICE_PROBABILITY).astype(np.int64)
    extra += (extra == 1) & (rng.random(count) < THIRD_CHOICE_PROBABILITY)
    extra = np.where(first == any_index, 0, np.minimum(extra, available))

    none = len(options)
    second = np.where(extra >= 1, order[:, 0], none)
    third = np.where(extra >= 2, order[:, 1], none)
    key = (first * (none + 1) + second) * (none + 1) + third
    unique_keys, index = np.unique(key, return_inverse=True)
    lists = tuple(
        tuple(
            options[o]
            for o in (k // (none + 1) ** 2, k // (none + 1) % (none + 1), k % (none + 1))
            if o != none
        )
        for k in unique_keys.tolist()
    )
    return Preferences(index=index.astype(np.int64), lists=lists, options=tuple(options))
