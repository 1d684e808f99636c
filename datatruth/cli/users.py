"""`datatruth users ...`: invite users, set roles, unlock, hash a password. Admins only invite; nobody self-registers."""

from __future__ import annotations

import argparse
import getpass
import os

from datatruth.auth import generate_cookie_key, hash_password, invite_user, unlock_user, user_exists
from datatruth.cli.common import settings, workspace_name
from datatruth.errors import NotFound, UserError
from datatruth.store import open_store
from datatruth.store.users import membership, set_membership
from datatruth.workspace.registry import load_config


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `users` command group."""
    p = sub.add_parser(
        "users",
        help="invite users, set their roles, unlock accounts",
        description="Manage sign-ins (credentials file at DATATRUTH_CREDENTIALS) and workspace roles.",
        epilog="Examples:\n  DATATRUTH_NEW_PASSWORD=... datatruth users invite ana --name 'Ana Li' "
        "--email ana@corp -w retail --role analyst\n  datatruth users role vic viewer -w retail\n"
        "  datatruth users unlock ana",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    usub = p.add_subparsers(dest="users_command", metavar="ACTION")
    usub.required = True
    inv = usub.add_parser(
        "invite", help="add a user with a password (read from DATATRUTH_NEW_PASSWORD or a prompt)"
    )
    inv.add_argument("username")
    inv.add_argument("--name", default="")
    inv.add_argument("--email", default="")
    inv.add_argument(
        "-w", "--workspace", type=workspace_name, required=True, help="workspace to add the user to"
    )
    inv.add_argument("--role", default="viewer", choices=("admin", "analyst", "viewer"))
    inv.add_argument(
        "--incident-role", default="viewer", choices=("owner", "maintainer", "reviewer", "viewer")
    )
    inv.add_argument(
        "--actor", default=os.environ.get("USER", "cli"), help="who is doing this (for the audit log)"
    )
    inv.set_defaults(func=_invite)
    role = usub.add_parser("role", help="change a user's role in a workspace")
    role.add_argument("username")
    role.add_argument("role", choices=("admin", "analyst", "viewer"))
    role.add_argument("-w", "--workspace", type=workspace_name, required=True)
    role.add_argument(
        "--incident-role", default="viewer", choices=("owner", "maintainer", "reviewer", "viewer")
    )
    role.add_argument("--actor", default=os.environ.get("USER", "cli"))
    role.set_defaults(func=_role)
    unlock = usub.add_parser("unlock", help="reset a locked-out user's failed sign-in attempts")
    unlock.add_argument("username")
    unlock.set_defaults(func=_unlock)
    hp = usub.add_parser("hash-password", help="print a bcrypt hash of DATATRUTH_NEW_PASSWORD (or a prompt)")
    hp.set_defaults(func=_hash)
    ck = usub.add_parser("cookie-key", help="print a new random cookie key for DATATRUTH_COOKIE_KEY")
    ck.set_defaults(func=_cookie_key)


def _password() -> str:
    pw = os.environ.get("DATATRUTH_NEW_PASSWORD")
    if pw:
        return pw
    try:
        return getpass.getpass("Password: ")
    except EOFError:
        raise UserError("no password given", "set DATATRUTH_NEW_PASSWORD or run in a terminal") from None


def _credentials_path():
    s = settings()
    if s.credentials_path is None:
        raise UserError(
            "DATATRUTH_CREDENTIALS is not set", "point it at the credentials YAML (outside the repo)"
        )
    return s


def _invite(args: argparse.Namespace) -> int:
    s = _credentials_path()
    load_config(args.workspace, s)  # the workspace must exist before anyone is invited to it
    invite_user(s.credentials_path, args.username, args.name or args.username, args.email, _password())
    set_membership(
        open_store(settings=s), args.workspace, args.username, args.role, args.incident_role, actor=args.actor
    )
    print(f"invited {args.username} to {args.workspace} as {args.role}")
    return 0


def _role(args: argparse.Namespace) -> int:
    s = settings()
    load_config(args.workspace, s)
    store = open_store(settings=s)
    # A role is given to someone who exists: a sign-in in the credentials file, or already a member here.
    if (
        not user_exists(s.credentials_path, args.username)
        and membership(store, args.workspace, args.username) is None
    ):
        raise NotFound(
            f"user '{args.username}' does not exist",
            f"invite them first: datatruth users invite {args.username} -w {args.workspace}",
        )
    set_membership(store, args.workspace, args.username, args.role, args.incident_role, actor=args.actor)
    print(f"{args.username} is now {args.role} in {args.workspace}")
    return 0


def _unlock(args: argparse.Namespace) -> int:
    s = _credentials_path()
    unlock_user(s.credentials_path, args.username)
    print(f"unlocked {args.username}")
    return 0


def _hash(args: argparse.Namespace) -> int:
    print(hash_password(_password()))
    return 0


def _cookie_key(args: argparse.Namespace) -> int:
    print(generate_cookie_key())
    return 0
