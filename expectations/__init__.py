"""Data quality: a Great Expectations suite per dataset that holds back a bad delivery.

`expectations.runner.check_pending(root)` checks what landing left in the lake; `release` lets a held
delivery back in deliberately. See expectations/README.md.
"""
