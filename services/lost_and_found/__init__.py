"""lost_and_found: found items, lost-item reports, claims, custody and the
monthly handover to finance (seed 004, 2.2.5)."""
