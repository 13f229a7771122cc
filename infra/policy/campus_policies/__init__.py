"""The platform's rules as CrossGuard policies (pure functions over resource inputs)."""
