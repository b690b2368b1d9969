"""Suite-wide test configuration.

Qt must see QT_QPA_PLATFORM before any QApplication exists, so it is set at
import time here, before pytest-qt creates one.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")
