"""`platform-tools drift`: what differs between the stacks (dev, staging, prod, ...): images,
chart versions and configuration of each component, and versions that skipped testing.

The stacks are read from the rendered manifests (`make render`, offline), from each stack's
cluster (`--live`, the official `kubernetes` client), or from single hosts' state files (what
the playbooks write on each host). All three give the same model (model.py), compared the same
way (compare.py).
"""
