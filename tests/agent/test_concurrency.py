"""Agents at once: twenty first connects of one new SecureCloud ID, and many reports of
one client."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client as DjangoClient

from clients.models import AgentToken, BackupReport, Client
from tests.agent.conftest import Agent

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

THREADS = 20


@pytest.fixture(autouse=True)
def wide_connect_queue(settings):
    """These tests are about the database's locks and counts: every connect gets its
    turn at once, as with sync workers (test_refresh.py holds the queue's slots)."""
    settings.AGENT_CONNECT_CONCURRENCY = 64


def at_once(count: int, job: Callable[[int], list[int]]) -> list[int]:
    """job(0) … job(count - 1) in threads that start together, each on its own database
    connection; their answers, in the order they came. Any exception fails the test."""
    barrier = threading.Barrier(count)
    answers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for answer in job(n):
                with lock:
                    answers.append(answer)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return answers


def test_twenty_simultaneous_first_connects_create_one_client(customer_a_east, settings):
    # This is about the creation race: when an agent with its own password wins it, the
    # fifteen others fail, which would otherwise trip the per-ID limit (429).
    settings.AGENT_CONNECT_MAX_FAILURES_PER_ID = 1000
    key = customer_a_east.registration_key

    def connect(n: int) -> list[int]:
        agent = Agent(DjangoClient(), ip=f"192.0.2.{n}")
        # Most share one password; a few bring another, which can only succeed by being
        # the one that creates the client.
        password = "shared-password" if n % 4 else f"own-password-{n}"
        return [agent.connect("race@east.example", password, key).status_code]

    answers = at_once(THREADS, connect)
    assert len(answers) == THREADS
    assert set(answers) <= {200, 201, 401}, answers
    assert answers.count(201) == 1, answers
    # The winner's password is the client's: the 14 others who share it get in (200), the
    # rest get 401; or, if one with its own password won, all 19 others get 401.
    assert (answers.count(200), answers.count(401)) in {(14, 5), (0, 19)}, answers
    assert Client.objects.filter(securecloud_id="race@east.example").count() == 1
    created = Client.objects.get(securecloud_id="race@east.example")
    assert created.customer_id == customer_a_east.pk
    # Every 200/201 got a token; the client keeps its five newest.
    successes = answers.count(200) + answers.count(201)
    assert AgentToken.objects.filter(client=created).count() == min(5, successes)


def test_simultaneous_reports_of_one_client_lose_no_delta(agent, client_a1, customer_a1):
    # The write locks the client row before it reads its old size: each report moves the
    # customer's total by its own delta, whatever the others do meanwhile.
    token = agent.token("a1@acme.example", "client-pass-1")
    threads, per_thread = 8, 5

    def report(n: int) -> list[int]:
        reporter = Agent(DjangoClient())
        return [
            reporter.report(token, used_bytes=1000 * (n * per_thread + i + 1)).status_code
            for i in range(per_thread)
        ]

    assert at_once(threads, report) == [201] * threads * per_thread
    client_a1.refresh_from_db()
    customer_a1.refresh_from_db()
    last = BackupReport.objects.filter(client=client_a1).latest("id")
    assert BackupReport.objects.filter(client=client_a1).count() == threads * per_thread
    assert client_a1.used_bytes == last.used_bytes
    assert customer_a1.used_bytes == client_a1.used_bytes


def test_forty_simultaneous_wrong_passwords_get_ten_checks(client_a1):
    # Check and count are one step: simultaneous guesses cannot all pass a check that
    # each of them would fill. The limit is 10 failures per ID and address.
    def guess(n: int) -> list[int]:
        return [
            Agent(DjangoClient(), ip="203.0.113.40")
            .connect("a1@acme.example", f"wrong-password-{n}")
            .status_code
        ]

    answers = at_once(40, guess)
    assert sorted(answers) == [401] * 10 + [429] * 30, answers
