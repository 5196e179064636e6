"""The sandbox provider: each token's outcome, each idempotency key performed once (in memory
and in a bank process of its own), and its signed webhooks."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from comptoir.payments.providers.base import (
    Answer,
    BadWebhook,
    Operation,
    ProviderCall,
    ProviderUnavailable,
)
from comptoir.payments.providers.sandbox import (
    DEMO_WEBHOOK_SECRET,
    SandboxProvider,
    sandbox_provider,
)
from comptoir.payments.providers.sandbox_banks import MEMORY_BANK, HttpBank, MemoryBank
from comptoir.payments.providers.sandbox_outcomes import outcome
from comptoir.settings import SettingsError, load_settings
from tests.events.receiver import WebhookReceiver
from tests.payments.bank import REPO, BankProcess, until
from tests.support import free_port

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def authorize(token: str, amount: int = 4999) -> ProviderCall:
    return ProviderCall(transaction_id=uuid.uuid4(), operation=Operation.AUTHORIZE,
                        amount=amount, currency="EUR", order_number="CMP-2026-000001",
                        source=token)


def on(authorization: Answer, operation: Operation, amount: int = 1999) -> ProviderCall:
    """A capture, void or refund drawing on an authorization the sandbox answered."""
    assert authorization.reference is not None
    return ProviderCall(transaction_id=uuid.uuid4(), operation=operation, amount=amount,
                        currency="EUR", order_number="CMP-2026-000001",
                        source=authorization.reference)


class Sleeps:
    """An ``asyncio.sleep`` that only remembers how long it was asked to wait."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def provider(**options: object) -> SandboxProvider:
    return SandboxProvider(MemoryBank(), **options)  # type: ignore[arg-type]


# --- what each token does ---------------------------------------------------------------------


@pytest.mark.parametrize(("token", "status", "failure_code"), [
    ("tok_ok", "succeeded", None),
    ("tok_visa_4242", "succeeded", None),  # any token the table does not name
    ("tok_declined", "failed", "card_declined"),
    ("tok_insufficient", "failed", "insufficient_funds"),
    ("tok_slow", "succeeded", None),
    ("tok_timeout", "succeeded", None),
    ("tok_webhook", "pending", None),
    ("tok_webhook_declined", "pending", None),
])
def test_the_card_token_decides_the_authorization(token: str, status: str,
                                                  failure_code: str | None) -> None:
    answer = outcome(authorize(token))
    assert (answer.status, answer.failure_code) == (status, failure_code)
    assert answer.reference is not None and answer.reference.startswith("sbx_auth_")


@pytest.mark.parametrize(("token", "status", "failure_code"), [
    ("tok_ok", "succeeded", None),
    ("tok_slow", "succeeded", None),
    ("tok_timeout", "succeeded", None),
    ("tok_webhook", "pending", None),
    ("tok_declined", "failed", "authorization_failed"),
    ("tok_insufficient", "failed", "authorization_failed"),
    ("tok_webhook_declined", "failed", "authorization_failed"),
])
@pytest.mark.parametrize("operation", [Operation.CAPTURE, Operation.VOID, Operation.REFUND])
def test_captures_voids_and_refunds_inherit_the_token_of_their_authorization(
    token: str, status: str, failure_code: str | None, operation: Operation,
) -> None:
    answer = outcome(on(outcome(authorize(token)), operation))
    assert (answer.status, answer.failure_code) == (status, failure_code)


def test_the_same_call_is_always_decided_the_same_way() -> None:
    call = authorize("tok_ok")
    assert outcome(call) == outcome(call)
    assert outcome(call).reference != outcome(authorize("tok_ok")).reference


def test_a_source_that_is_no_sandbox_token_fails() -> None:
    assert outcome(authorize("pm_card_visa")).failure_code == "invalid_token"
    capture = msgspec.structs.replace(authorize("tok_ok"), operation=Operation.CAPTURE,
                                      source="pi_3NqQ")
    assert outcome(capture).failure_code == "authorization_unknown"


def test_an_authorization_the_shop_made_with_the_sandbox_is_adopted() -> None:
    made = outcome(authorize("tok_slow"))
    adopted = outcome(authorize(made.reference or ""))
    assert adopted == Answer(status="succeeded", reference=made.reference)
    assert outcome(on(adopted, Operation.CAPTURE)).status == "succeeded"


async def test_a_slow_token_is_answered_after_the_configured_delay() -> None:
    sleeps = Sleeps()
    sandbox = provider(slow_seconds=2.5, sleep=sleeps)
    authorization = await sandbox.call(authorize("tok_slow"))
    capture = await sandbox.call(on(authorization, Operation.CAPTURE))
    assert (authorization.status, capture.status) == ("succeeded", "succeeded")
    assert sleeps.asked == [2.5, 2.5]
    assert await provider(sleep=sleeps).call(authorize("tok_ok")) is not None
    assert sleeps.asked == [2.5, 2.5]  # only slow tokens wait


async def test_a_timeout_token_is_performed_once_though_its_first_answers_are_lost() -> None:
    bank = MemoryBank()
    sandbox = SandboxProvider(bank, timeout_attempts=2)
    call = authorize("tok_timeout")
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            await sandbox.call(call)
    answer = await sandbox.call(call)
    assert answer == outcome(call) and answer.status == "succeeded"
    [record] = await bank.operations()
    assert (record.key, record.times_asked, record.repeats) == (call.idempotency_key, 3, 2)

    capture = on(answer, Operation.CAPTURE)
    with pytest.raises(ProviderUnavailable):
        await sandbox.call(capture)  # its captures lose their answers too


# --- one key, performed once ------------------------------------------------------------------


async def test_a_repeated_key_is_answered_the_first_answer_and_performed_once() -> None:
    bank = MemoryBank()
    sandbox = SandboxProvider(bank)
    call = authorize("tok_ok")
    answers = [await sandbox.call(call) for _ in range(4)]
    answers += await asyncio.gather(*(sandbox.call(call) for _ in range(4)))
    assert set(answers) == {outcome(call)}
    [record] = await bank.operations()
    assert (record.operation, record.amount, record.currency, record.reference) == (
        Operation.AUTHORIZE, 4999, "EUR", outcome(call).reference)
    assert (record.status, record.times_asked, record.repeats) == ("succeeded", 8, 7)


async def test_a_key_reused_for_another_amount_is_refused_and_nothing_is_performed() -> None:
    bank = MemoryBank()
    sandbox = SandboxProvider(bank)
    call = authorize("tok_ok", amount=1000)
    await sandbox.call(call)
    other = await sandbox.call(msgspec.structs.replace(call, amount=2000))
    assert (other.status, other.failure_code) == ("failed", "idempotency_key_reused")
    [record] = await bank.operations()
    assert (record.amount, record.times_asked) == (1000, 1)


async def test_a_pending_operation_keeps_its_first_answer_once_settled() -> None:
    bank = MemoryBank()
    sandbox = SandboxProvider(bank)
    call = authorize("tok_webhook")
    first = await sandbox.call(call)
    await sandbox.settle(call.idempotency_key, now=NOW)
    assert await sandbox.call(call) == first  # a repeat is the first answer, not a new one
    [record] = await bank.operations()
    assert (record.status, record.answer.status, record.times_asked) == (
        "succeeded", "pending", 2)


def test_the_factory_reads_the_settings() -> None:
    defaults = sandbox_provider(load_settings({"COMPTOIR_SECRET_KEY": "x" * 32}))
    assert defaults.bank is MEMORY_BANK and defaults.webhook_secret == DEMO_WEBHOOK_SECRET
    assert (defaults.slow_seconds, defaults.timeout_attempts) == (3.0, 2)
    remote = sandbox_provider(load_settings({
        "COMPTOIR_SECRET_KEY": "x" * 32,
        "COMPTOIR_SANDBOX_BANK_URL": "http://127.0.0.1:8765/",
        "COMPTOIR_SANDBOX_WEBHOOK_SECRET": "whsec_mine",
        "COMPTOIR_SANDBOX_SLOW_SECONDS": "0.2",
        "COMPTOIR_SANDBOX_TIMEOUT_ATTEMPTS": "1",
    }))
    assert isinstance(remote.bank, HttpBank) and remote.bank.url == "http://127.0.0.1:8765"
    assert (remote.webhook_secret, remote.slow_seconds, remote.timeout_attempts) == (
        "whsec_mine", 0.2, 1)


@pytest.mark.parametrize(("name", "value"), [
    ("SANDBOX_BANK_URL", "127.0.0.1:8765"),
    ("SANDBOX_SLOW_SECONDS", "-1"),
    ("SANDBOX_TIMEOUT_ATTEMPTS", "many"),
])
def test_a_bad_sandbox_setting_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"COMPTOIR_{name}"):
        load_settings({"COMPTOIR_SECRET_KEY": "x" * 32, f"COMPTOIR_{name}": value})


class KeysAskedAtRandom(RuleBasedStateMachine):
    """Calls made, repeated, lost and settled in any order: the bank performs each key once
    and every answer to a key is its first one."""

    def __init__(self) -> None:
        super().__init__()
        self.bank = MemoryBank()
        self.sandbox = SandboxProvider(self.bank, slow_seconds=0, timeout_attempts=1)
        self.calls: list[ProviderCall] = []
        self.asked: dict[str, int] = {}
        self.first: dict[str, Answer] = {}

    def _ask(self, call: ProviderCall) -> None:
        self.asked[call.idempotency_key] = self.asked.get(call.idempotency_key, 0) + 1
        try:
            answer = asyncio.run(self.sandbox.call(call))
        except ProviderUnavailable:
            return
        assert self.first.setdefault(call.idempotency_key, answer) == answer
        if call.operation is Operation.AUTHORIZE and answer.status == "succeeded":
            self.calls.append(on(answer, Operation.CAPTURE))

    @rule(token=st.sampled_from(["tok_ok", "tok_declined", "tok_timeout", "tok_slow",
                                 "tok_webhook", "tok_other"]))
    def authorize_a_new_transaction(self, token: str) -> None:
        call = authorize(token)
        self.calls.append(call)
        self._ask(call)

    @precondition(lambda self: self.calls)
    @rule(data=st.data())
    def ask_a_key_again(self, data: st.DataObject) -> None:
        self._ask(data.draw(st.sampled_from(self.calls)))

    @precondition(lambda self: self.asked)
    @rule(data=st.data())
    def settle_a_key(self, data: st.DataObject) -> None:
        asyncio.run(self.sandbox.settle(data.draw(st.sampled_from(sorted(self.asked))),
                                        now=NOW))

    @invariant()
    def each_key_is_performed_once(self) -> None:
        records = asyncio.run(self.bank.operations())
        assert sorted(r.key for r in records) == sorted(self.asked)
        assert {r.key: r.times_asked for r in records} == self.asked
        for record in records:
            assert record.answer == outcome(record.call)


TestKeysAskedAtRandom = KeysAskedAtRandom.TestCase
TestKeysAskedAtRandom.settings = hypothesis_settings(max_examples=50, stateful_step_count=30,
                                                     deadline=None)


# --- webhooks ---------------------------------------------------------------------------------


async def _settled_webhook(token: str, *, secret: str = DEMO_WEBHOOK_SECRET,
                           at: dt.datetime = NOW) -> tuple[SandboxProvider, ProviderCall,
                                                           bytes, dict[str, str]]:
    sandbox = provider(webhook_secret=secret)
    call = authorize(token)
    assert (await sandbox.call(call)).status == "pending"
    signed = await sandbox.settle(call.idempotency_key, now=at)
    return sandbox, call, signed.body, {k.lower(): v for k, v in signed.headers.items()}


@pytest.mark.parametrize(("token", "status", "failure_code"), [
    ("tok_webhook", "succeeded", None),
    ("tok_webhook_declined", "failed", "card_declined"),
])
async def test_a_signed_webhook_reports_the_pending_operations_outcome(
    token: str, status: str, failure_code: str | None,
) -> None:
    sandbox, call, body, headers = await _settled_webhook(token)
    [reported] = sandbox.webhook(body, headers, now=NOW + dt.timedelta(seconds=299))
    assert (reported.transaction_id, reported.operation, reported.status,
            reported.failure_code, reported.amount) == (
        call.transaction_id, Operation.AUTHORIZE, status, failure_code, 4999)
    assert reported.reference == outcome(call).reference


async def test_a_webhook_signed_with_another_secret_is_refused() -> None:
    _, _, body, headers = await _settled_webhook("tok_webhook", secret="whsec_other")
    with pytest.raises(BadWebhook, match="does not match"):
        provider().webhook(body, headers, now=NOW)


async def test_a_webhook_whose_body_was_changed_is_refused() -> None:
    sandbox, _, body, headers = await _settled_webhook("tok_webhook")
    with pytest.raises(BadWebhook, match="does not match"):
        sandbox.webhook(body.replace(b"4999", b"9999"), headers, now=NOW)


@pytest.mark.parametrize("seconds", [301, -301, 86_400])
async def test_a_webhook_signed_more_than_five_minutes_away_is_refused(seconds: int) -> None:
    sandbox, _, body, headers = await _settled_webhook("tok_webhook")
    with pytest.raises(BadWebhook, match="300 s"):
        sandbox.webhook(body, headers, now=NOW + dt.timedelta(seconds=seconds))


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=now,v1=abc", "t=1796299200"])
async def test_a_webhook_without_a_readable_signature_is_refused(header: str | None) -> None:
    sandbox, _, body, _ = await _settled_webhook("tok_webhook")
    headers = {} if header is None else {"sandbox-signature": header}
    with pytest.raises(BadWebhook):
        sandbox.webhook(body, headers, now=NOW)


def test_a_signed_body_that_is_no_sandbox_event_is_refused() -> None:
    body = b'{"hello": "world"}'
    timestamp = int(NOW.timestamp())
    mac = hmac.new(DEMO_WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, "sha256")
    headers = {"sandbox-signature": f"t={timestamp},v1={mac.hexdigest()}"}
    with pytest.raises(BadWebhook, match="unreadable"):
        provider().webhook(body, headers, now=NOW)


# --- the bank in a process of its own ---------------------------------------------------------


@pytest.fixture(scope="module")
async def bank_process(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BankProcess]:
    tmp = tmp_path_factory.mktemp("sandbox-bank")
    bank = BankProcess.in_directory(tmp)
    await bank.start()
    try:
        yield bank
    finally:
        await bank.kill()


async def test_a_repeated_key_is_performed_once_by_the_bank_process(
    bank_process: BankProcess,
) -> None:
    bank = HttpBank(bank_process.url)
    sandbox = SandboxProvider(bank)
    call = authorize("tok_ok", amount=1234)
    answers = await asyncio.gather(*(sandbox.call(call) for _ in range(6)))
    answers.append(await sandbox.call(call))
    assert set(answers) == {outcome(call)}
    [record] = [r for r in await bank.operations() if r.key == call.idempotency_key]
    assert (record.operation, record.amount, record.currency, record.status,
            record.times_asked) == (Operation.AUTHORIZE, 1234, "EUR", "succeeded", 7)

    reused = await sandbox.call(msgspec.structs.replace(call, amount=4321))
    assert reused.failure_code == "idempotency_key_reused"


async def test_the_bank_process_settles_and_signs_a_pending_operation(
    bank_process: BankProcess,
) -> None:
    sandbox = SandboxProvider(HttpBank(bank_process.url))
    call = authorize("tok_webhook_declined")
    assert (await sandbox.call(call)).status == "pending"
    async with httpx.AsyncClient(base_url=bank_process.url, timeout=10) as client:
        sent = await client.post(f"/operations/{call.idempotency_key}/webhook")
        missing = await client.post("/operations/comptoir-nothing/webhook")
    assert sent.status_code == 200, sent.text
    assert missing.status_code == 404
    body, signature = sent.json()["body"].encode(), sent.json()["signature"]
    [reported] = sandbox.webhook(body, {"sandbox-signature": signature},
                                 now=dt.datetime.now(dt.UTC))
    assert (reported.transaction_id, reported.status, reported.failure_code) == (
        call.transaction_id, "failed", "card_declined")


async def test_the_bank_process_delivers_a_signed_webhook_where_it_is_told(
    bank_process: BankProcess,
) -> None:
    sandbox = SandboxProvider(HttpBank(bank_process.url))
    capture = on(await sandbox.call(authorize("tok_ok")), Operation.CAPTURE)
    assert (await sandbox.call(capture)).status == "succeeded"
    async with WebhookReceiver() as receiver:
        async with httpx.AsyncClient(base_url=bank_process.url, timeout=10) as client:
            sent = await client.post(f"/operations/{capture.idempotency_key}/webhook",
                                     json={"deliver_to": receiver.url})
        assert sent.status_code == 200, sent.text
        [delivered] = await receiver.wait_for(1)
    assert sent.json()["delivered_status"] == 200  # the receiver's answer, passed on
    assert delivered.headers["sandbox-signature"] == sent.json()["signature"]
    [reported] = sandbox.webhook(delivered.body, delivered.headers,
                                 now=dt.datetime.now(dt.UTC))
    # Final from its first answer: the webhook says it again, which changes nothing.
    assert (reported.transaction_id, reported.operation, reported.status) == (
        capture.transaction_id, Operation.CAPTURE, "succeeded")


async def test_a_bank_that_does_not_answer_is_a_provider_unavailable() -> None:
    sandbox = SandboxProvider(HttpBank(f"http://127.0.0.1:{free_port()}", timeout=2))
    with pytest.raises(ProviderUnavailable):
        await sandbox.call(authorize("tok_ok"))


CLIENT = """
import asyncio, sys, uuid
from comptoir.payments.providers.base import Operation, ProviderCall
from comptoir.payments.providers.sandbox import SandboxProvider
from comptoir.payments.providers.sandbox_banks import HttpBank

async def main() -> None:
    sandbox = SandboxProvider(HttpBank(sys.argv[1]))
    for n in range(10_000):
        call = ProviderCall(transaction_id=uuid.uuid4(), operation=Operation.AUTHORIZE,
                            amount=100 + n, currency="EUR", order_number="CMP-2026-000002",
                            source="tok_ok")
        await sandbox.call(call)
        print(call.idempotency_key, flush=True)

asyncio.run(main())
"""


async def test_the_bank_process_outlives_its_client_and_its_own_sigkill(
    tmp_path: Path,
) -> None:
    bank_process = BankProcess.in_directory(tmp_path)
    await bank_process.start()
    try:
        # A client performs operations until it is killed in the middle of its work.
        heard = tmp_path / "client.out"
        with heard.open("wb") as out:
            client = await asyncio.create_subprocess_exec(
                sys.executable, "-c", CLIENT, bank_process.url, cwd=REPO,
                env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=out,
                stderr=asyncio.subprocess.STDOUT)

        async def five_answers() -> bool:
            assert client.returncode is None, heard.read_text()
            return len(heard.read_text().split()) >= 5

        await until(five_answers, lambda: "the client heard no answers")
        client.send_signal(signal.SIGKILL)
        await client.wait()
        answered = heard.read_text().split()

        bank = HttpBank(bank_process.url)
        performed = await bank.operations()  # the bank still answers
        keys = [r.key for r in performed]
        assert set(answered) <= set(keys)
        assert len(keys) - len(answered) <= 1  # at most the one in flight, unheard
        assert all(r.times_asked == 1 and r.status == "succeeded" for r in performed)

        # Killed too, and started again on its file: it forgot nothing it performed.
        await bank_process.kill()
        await bank_process.start()
        assert await bank.operations() == performed
    finally:
        await bank_process.kill()
