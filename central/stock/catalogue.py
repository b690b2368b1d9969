"""The vaccine catalogue the stock side uses: the newest rule set's products.

Stock outlives rule versions (a lot delivered under the March rules is used
under the June ones), so products and GTINs are looked up in the newest
catalogue, which lists every product ever used.
"""

from __future__ import annotations

from domain.catalogue import Catalogue
from domain.data import load_rules


def stock_catalogue() -> Catalogue:
    """The catalogue of the newest packaged rule set."""
    return load_rules().catalogue
