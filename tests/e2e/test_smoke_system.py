def test_the_system_starts_with_its_staff(system):
    assert set(system.tokens) >= {"admin", "c-017", "k-001"}
