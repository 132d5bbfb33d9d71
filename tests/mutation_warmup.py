"""A pytest plugin for `make mutation` only (pyproject.toml [tool.mutmut]
``pytest_add_cli_args``).

- mutmut forks one worker per mutant from a process that has collected the
  tests: jieba's prefix dictionary is loaded there, once (seconds), instead of
  in every worker that runs a matching test.
- mutmut runs, for a mutant, only the tests that called the mutated function
  while it measured: with the vocabulary and gazetteer files cached per
  process, only the first test to load them would count as testing how they
  are read. While mutmut measures, the caches are emptied before each test so
  that every test that loads a matcher counts (a worker starts with empty
  caches: its first load already runs the mutant).
"""
import os


def pytest_collection_finish(session):
    from services.lost_and_found.lexicon import _base_tokenizer
    _base_tokenizer()


def pytest_runtest_setup(item):
    if os.environ.get("MUTANT_UNDER_TEST") != "stats":
        return
    from services.lost_and_found import gazetteer, lexicon
    lexicon._cached.cache_clear()
    gazetteer._cached.cache_clear()
