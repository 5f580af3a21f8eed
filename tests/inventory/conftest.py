from tests.store.backends import backend, inventory, store

__all__ = ["backend", "inventory", "store"]
