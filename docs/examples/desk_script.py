"""A desk terminal or a script that calls the RPCs itself: log in, then pass
the principal in nameko's context data with every call.

    python docs/examples/desk_script.py --staff-id wang.fang --desk main-gate

It signs the clerk in for today's duty (签到) and prints the sign-in sheet.
The password is read from the terminal (or from stdin with --password-stdin).
"""
import argparse
import getpass
import sys

from nameko.standalone.rpc import ClusterRpcProxy


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--amqp-uri", default="pyamqp://guest:guest@localhost:5672/")
    parser.add_argument("--staff-id", required=True)
    parser.add_argument("--desk", required=True)
    parser.add_argument("--password-stdin", action="store_true")
    args = parser.parse_args(argv)
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    config = {"AMQP_URI": args.amqp_uri, "serializer": "json"}

    # 1. log in: the staff service checks the password and signs a principal
    #    (context data "source" says which terminal, for throttling and the login record)
    with ClusterRpcProxy(config, context_data={"source": "desk-script"}, timeout=30) as anonymous:
        login = anonymous.staff.login({"staff_id": args.staff_id, "password": password, "desk": args.desk})

    # 2. every call carries it as context data "principal" (a message header, never in the payload);
    #    a rule that needs a second person takes their own login as "cosigner"
    with ClusterRpcProxy(config, context_data={"principal": login["token"]}, timeout=30) as rpc:
        signed_in = rpc.duty_log.sign_in({"desk": args.desk})
        sheet = rpc.forms.sign_in_sheet({"desk": args.desk, "shift_date": signed_in["shift_date"]})
    print(f"{login['name']} signed in at {signed_in['signed_in_at']}; "
          f"{len(sheet['rows'])} on the sheet (as of position {sheet['as_of_position']})")
    print(f"the principal expires at {login['expires_at']}: call staff.refresh before then")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
