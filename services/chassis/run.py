"""Start nameko services as ``nameko run --config`` does, without nameko's CLI.

    python -m services.chassis.run --config deploy/config.yaml services.forms.service

The CLI's own module imports ``pkg_resources`` to print its version: 0.06 s
of every start of every service (bench/RESULTS.md, "Speed, fourth round").
This runs nameko's own runner (``nameko.cli.run.run``: SIGTERM stops the
services cleanly, as the read models need to write their snapshots) on the
config read by ``services.chassis.config.load_config`` (the same
``${VAR:default}`` placeholders, as the relay and the witness read it), with
its ``LOGGING`` section applied as the CLI applies it.
"""
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet's deprecation banner: nameko 2 runs on it
    import eventlet
eventlet.monkey_patch()  # noqa: E402  (before anything else is imported)

import argparse  # noqa: E402
import logging  # noqa: E402
import logging.config  # noqa: E402
import sys  # noqa: E402

from nameko.cli.run import import_service, run  # noqa: E402
from nameko.exceptions import CommandError  # noqa: E402

from services.chassis.collector import freeze_in_this_process  # noqa: E402
from services.chassis.config import load_config  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.chassis.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="YAML config (deploy/config.yaml)")
    parser.add_argument("services", nargs="+", metavar="module", help="e.g. services.forms.service")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    if "LOGGING" in config:
        logging.config.dictConfig(config["LOGGING"])
    else:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    if "." not in sys.path:
        sys.path.insert(0, ".")
    try:
        services = [service for module in args.services for service in import_service(module)]
    except CommandError as exc:  # no such module, or nothing like a service in it
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    freeze_in_this_process()  # read models leave the collector's reach once loaded (services/chassis/collector.py)
    run(services, config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
