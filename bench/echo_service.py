"""The yardstick of bench/desk_load.py: a bare nameko RPC that returns its
payload, run as a process like every service (`python -m services.chassis.run bench.echo_service`)."""
from nameko.rpc import rpc


class Echo:
    name = "echo"

    @rpc
    def echo(self, payload=None):
        return payload
