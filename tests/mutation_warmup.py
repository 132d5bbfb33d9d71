"""A pytest plugin for `make mutation` only (pyproject.toml [tool.mutmut]
``pytest_add_cli_args``). mutmut forks one worker per mutant from a process
that has collected the tests: jieba's prefix dictionary is loaded there, once
(seconds), instead of in every worker that runs a matching test."""


def pytest_collection_finish(session):
    from services.lost_and_found.lexicon import _base_tokenizer
    _base_tokenizer()
