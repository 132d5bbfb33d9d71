#!/usr/bin/env bash
# Make sure a RabbitMQ answers on localhost:5672: start Debian's
# rabbitmq-server when it is installed but stopped, install it when missing
# (only as root). With --management also make sure the management API
# answers on :15672 (nameko's test plugin makes a vhost per test through it).
set -euo pipefail
want_management=0
[ "${1:-}" = "--management" ] && want_management=1

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 60); do answers "$1" && return 0; sleep 1; done
  return 1
}

if [ -n "${AMQP_URI:-}" ] && [[ "$AMQP_URI" != *localhost* ]] && [[ "$AMQP_URI" != *127.0.0.1* ]]; then
  exit 0  # a remote broker was configured; nothing to start here
fi

if ! answers 5672; then
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "RabbitMQ does not answer on localhost:5672 and is not installed." >&2
      echo "Install it (as root: apt-get install rabbitmq-server) or set AMQP_URI to a running broker." >&2
      exit 1
    fi
    echo "installing Debian's rabbitmq-server ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  fi
  echo "starting rabbitmq-server ..."
  if [ "$(id -u)" = 0 ]; then
    rabbitmq-server -detached >/dev/null 2>&1 || service rabbitmq-server start >/dev/null 2>&1 || true
  else
    sudo -n rabbitmq-server -detached >/dev/null 2>&1 || true
  fi
  wait_port 5672 || { echo "RabbitMQ did not come up on localhost:5672" >&2; exit 1; }
fi

if [ "$want_management" = 1 ] && ! answers 15672; then
  echo "enabling the RabbitMQ management plugin ..."
  rabbitmq-plugins enable rabbitmq_management >/dev/null
  wait_port 15672 || { echo "RabbitMQ management API did not come up on :15672" >&2; exit 1; }
fi
