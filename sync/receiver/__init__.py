"""Reference receiver of the provincial integrated platform (省一体化平台).

Stands in for the platform's data-exchange interface so that the whole sync flow runs, and
is tested, on one machine over real HTTP. Standard library only (plus the code lists and
number checks of yunjian, which import without Django settings).
"""

from .server import Faults, Receiver

__all__ = ["Faults", "Receiver"]
