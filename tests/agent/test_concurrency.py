"""Twenty agents connect at once with the same new SecureCloud ID."""

import threading

import pytest
from django.db import connection
from django.test import Client as DjangoClient

from clients.models import AgentToken, BackupReport, Client
from tests.agent.conftest import Agent

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_twenty_simultaneous_first_connects_create_one_client(customer_a_east, settings):
    # This is about the creation race: when an agent with its own password wins it, the
    # fifteen others fail, which would otherwise trip the per-ID limit (429).
    settings.AGENT_CONNECT_MAX_FAILURES_PER_ID = 1000
    key = customer_a_east.registration_key
    barrier = threading.Barrier(THREADS)
    answers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def connect(n: int) -> None:
        try:
            agent = Agent(DjangoClient(), ip=f"192.0.2.{n}")
            # Most share one password; a few bring another, which can only succeed by
            # being the one that creates the client.
            password = "shared-password" if n % 4 else f"own-password-{n}"
            barrier.wait(timeout=30)
            status = agent.connect("race@east.example", password, key).status_code
            with lock:
                answers.append(status)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=connect, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
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
    threads_count, per_thread = 8, 5
    barrier = threading.Barrier(threads_count)
    answers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def report(n: int) -> None:
        try:
            reporter = Agent(DjangoClient())
            barrier.wait(timeout=30)
            for i in range(per_thread):
                status = reporter.report(token, used_bytes=1000 * (n * per_thread + i + 1))
                with lock:
                    answers.append(status.status_code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=report, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert answers == [201] * threads_count * per_thread
    client_a1.refresh_from_db()
    customer_a1.refresh_from_db()
    last = BackupReport.objects.filter(client=client_a1).latest("id")
    assert BackupReport.objects.filter(client=client_a1).count() == threads_count * per_thread
    assert client_a1.used_bytes == last.used_bytes
    assert customer_a1.used_bytes == client_a1.used_bytes
