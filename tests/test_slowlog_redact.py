"""Redaction: SQL literals and personal data never survive into samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from datatruth.slowlog.events import SlowEvent
from datatruth.slowlog.pg_log import iter_pg_events
from datatruth.slowlog.redact import (
    CARD_TOKEN,
    EMAIL_TOKEN,
    IP_TOKEN,
    PHONE_TOKEN,
    luhn_valid,
    mask_literals_text,
    redact_event,
    redact_sample,
    redact_text,
)


@pytest.mark.parametrize(
    ("text", "token", "secret"),
    [
        ("contact bob.smith+tag@example.co.uk today", EMAIL_TOKEN, "bob.smith"),
        ("from ALICE_99@Mail-Server.org.", EMAIL_TOKEN, "ALICE_99"),
        ("client 10.1.91.65 connected", IP_TOKEN, "10.1.91.65"),
        ("peer 192.168.0.255:5432", IP_TOKEN, "192.168.0.255"),
        ("v6 fe80::1ff:fe23:4567:890a here", IP_TOKEN, "fe80::1ff"),
        ("loopback ::1 only", IP_TOKEN, "::1"),
        ("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334", IP_TOKEN, "2001:0db8"),
        ("visa 4111 1111 1111 1111 exp", CARD_TOKEN, "4111 1111"),
        ("amex 378282246310005", CARD_TOKEN, "378282246310005"),
        ("mc 5555-5555-5555-4444", CARD_TOKEN, "5555-5555"),
        ("call +1 (555) 123-4567 now", PHONE_TOKEN, "123-4567"),
        ("call (555) 123 4567", PHONE_TOKEN, "123 4567"),
        ("us 555-123-4567", PHONE_TOKEN, "555-123-4567"),
        ("uk +44 20 7946 0958", PHONE_TOKEN, "7946 0958"),
        ("fr +33 1 23 45 67 89", PHONE_TOKEN, "45 67 89"),
    ],
)
def test_personal_data_is_masked(text: str, token: str, secret: str) -> None:
    out = redact_text(text)
    assert token in out
    assert secret not in out


@pytest.mark.parametrize(
    "text",
    [
        "order id 4111111111111112 failed",  # 16 digits, Luhn fails: an id, not a card
        "trace 1234567812345678",  # Luhn fails
        "at 2021-05-27 17:00:00 UTC",  # dates and times are not phones or addresses
        "duration: 0.054 ms",
        "cast x::date and y::text",  # PostgreSQL casts are not IPv6
        "version 12.2 released",
        "pid [12795] line [97-1]",
        "epoch 1700000000.123",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("79927398713", True),
        ("79927398710", False),
        ("378282246310005", True),
        ("0", True),
    ],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(
    ("sql", "dialect", "expected"),
    [
        (
            "SELECT * FROM users WHERE email = 'bob@example.com' AND id = 42 LIMIT 10 OFFSET 5",
            None,
            "SELECT * FROM users WHERE email = ? AND id = ? LIMIT ? OFFSET ?",
        ),
        (
            "select * from t where a = $1 and b in ($2, $3) and c && $4::tsrange",
            None,
            "select * from t where a = $1 and b in ($2, $3) and c && $4::tsrange",
        ),
        (
            "UPDATE t SET c = E'it\\'s', d = -3.5e10 WHERE x = 1 /* note 555-123-4567 */",
            None,
            "UPDATE t SET c = ?, d = -? WHERE x = ?",
        ),
        (
            "SELECT t1.c2 FROM t1 WHERE t1.c3 = 0x1F AND x = X'ff' AND y = B'101'",
            None,
            "SELECT t1.c2 FROM t1 WHERE t1.c3 = ? AND x = ? AND y = ?",
        ),
        ("DO $$ BEGIN RAISE NOTICE 'hi'; END $$", None, "DO ?"),
        (
            'select * from t where name = "bob smith" and x = 1',
            "mysql",
            "select * from t where name = ? and x = ?",
        ),
        (
            'SELECT "users"."id" FROM "users" WHERE "cn" = \'foo.bar\'',
            "postgres",
            'SELECT "users"."id" FROM "users" WHERE "cn" = ?',
        ),
        ("select 1; select 'a' -- trailing secret", None, "select ?; select ?"),
        (
            "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')",
            None,
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)",
        ),
        (
            "SELECT * FROM test WHERE tokens @@ to_tsquery('камень & почка')",
            None,
            "SELECT * FROM test WHERE tokens @@ to_tsquery(?)",
        ),
    ],
)
def test_sql_literals_are_masked(sql: str, dialect: str | None, expected: str) -> None:
    assert redact_sample(sql, dialect=dialect) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "select * from t where a = $1 and b in ($2,$3)",  # sqlglot's tokenizer stumbles on $2,$3
        "SELECT 'unterminated string with 4111 1111 1111 1111",
        "weird ` backtick 'secret' 123",
    ],
)
def test_text_fallback_still_masks(sql: str) -> None:
    out = redact_sample(sql)
    assert "secret" not in out and "4111" not in out and "123" not in out.replace("$1", "")


def test_text_fallback_details() -> None:
    assert (
        mask_literals_text("a = 'x''y' and b = 12.5e3 and c1 = $1 and d = $tag$body$tag$")
        == "a = ? and b = ? and c1 = $1 and d = ?"
    )
    assert mask_literals_text('"ok_name" = "not an identifier"') == '"ok_name" = ?'


def test_allow_raw_keeps_literals_but_not_personal_data() -> None:
    sql = "SELECT * FROM t WHERE email = 'eve@example.com' AND n = 42 AND ip = '10.0.0.7'"
    raw = redact_sample(sql, allow_raw=True)
    assert "42" in raw and "eve@" not in raw and "10.0.0.7" not in raw
    assert EMAIL_TOKEN in raw and IP_TOKEN in raw


def test_redact_event_drops_parameters_and_masks_host() -> None:
    event = SlowEvent(
        query="SELECT * FROM users WHERE email = $1 AND age > 30",
        query_time=0.5,
        host="10.2.3.4",
        attributes={
            "parameters": {"$1": "bob@example.com"},
            "pid": 5,
            "application": "mailer for bob@example.com",
        },
        source="postgres",
    )
    clean = redact_event(event)
    assert clean.query == "SELECT * FROM users WHERE email = $1 AND age > ?"
    assert "parameters" not in clean.attributes and clean.attributes["parameter_count"] == 1
    assert clean.host == IP_TOKEN
    assert clean.attributes["application"] == f"mailer for {EMAIL_TOKEN}"
    assert clean.attributes["pid"] == 5 and clean.query_time == 0.5


@pytest.mark.corpus
def test_pgbadger_anonymize_assertions(corpora: Path) -> None:
    # pgBadger's --anonymize test: none of these may appear in what is reported.
    fixtures = corpora / "pgbadger" / "fixtures"
    events = [redact_event(e) for e in iter_pg_events(fixtures / "anonymize.log")]
    text = "\n".join(e.query + repr(dict(e.attributes)) for e in events)
    for secret in ("11111111", "'r','p','v','f','m'", "x255044"):
        assert secret not in text
    raw = "\n".join(e.query + repr(dict(e.attributes)) for e in iter_pg_events(fixtures / "anonymize.log"))
    assert any(secret in raw for secret in ("11111111", "'r','p','v','f','m'", "x255044"))


@pytest.mark.corpus
def test_pgbadger_syslog_anonymize_assertions(corpora: Path) -> None:
    secrets = ("aid = 62643", "tid = 1;", "8, 1, 27361, 529, CURRENT_TIMESTAMP")
    events = [
        e
        for e in iter_pg_events(corpora / "pgbadger" / "fixtures" / "pg-syslog.1.bz2")
        if any(secret in e.query for secret in secrets)
    ]
    assert events  # the secrets are really in the log
    for event in events:
        out = redact_sample(event.query)
        assert not any(secret in out for secret in secrets), out
