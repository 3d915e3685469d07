"""The network guard (issue 11, point 3): no user-chosen connection into the server's own networks."""

import socket

import pytest

from odoo.addons.webcrm_calendar_sync.engine import errors, netguard
from odoo.addons.webcrm_calendar_sync.engine.providers import exchange as ex
from odoo.addons.webcrm_calendar_sync.engine.testing.tcp import CountingListener, closed_port


def public_resolver(host, port, **kw):
    """A resolver that lies: every name is a public address (a DNS-rebinding attacker's answer)."""
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]


@pytest.fixture
def listener():
    found = CountingListener()
    yield found
    found.close()


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.5.5", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0"]
    + ["::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "224.0.0.1", "240.0.0.1"],
)
def test_local_and_private_addresses_are_refused(address):
    guard = netguard.NetGuard()
    assert not guard.address_allowed(address)
    with pytest.raises(netguard.Refused):
        guard.check_host(address)


def test_public_addresses_pass():
    guard = netguard.NetGuard()
    for address in ("93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"):
        assert guard.address_allowed(address)


def test_names_resolving_to_local_addresses_are_refused():
    with pytest.raises(netguard.Refused):
        netguard.NetGuard().check_host("localhost")


def test_allow_list_of_hosts_and_networks():
    guard = netguard.NetGuard.from_setting("mail.corp.local, 10.20.0.0/16  127.0.0.1,,")
    assert guard.address_allowed("10.20.3.4")
    assert not guard.address_allowed("10.21.3.4")
    assert guard.address_allowed("127.0.0.1")
    assert guard.address_allowed("::ffff:127.0.0.1")
    assert not guard.address_allowed("127.0.0.2")
    guard.check_host("MAIL.corp.local.")  # allowed by name, whatever it resolves to
    with pytest.raises(netguard.Refused):
        guard.check_host("127.0.0.2")


def test_plain_http_is_refused():
    with pytest.raises(netguard.Refused) as caught:
        netguard.NetGuard().check_url("http://93.184.216.34/EWS/Exchange.asmx")
    assert caught.value.reason == "plain_http"


def provider(url, guard, **kw):
    return ex.ExchangeProvider(
        service_endpoint=url, email="ann@corp.test", password="SENTINEL-PW", guard=guard, retry_delay=0.01, **kw
    )


def test_exchange_never_connects_to_a_refused_address_and_says_the_same_for_any_port(listener):
    guard = netguard.NetGuard()
    messages = set()
    for port in (listener.port, closed_port(), 5432, 22):
        with pytest.raises(errors.ConfigurationError) as caught:
            provider(f"https://127.0.0.1:{port}/EWS/Exchange.asmx", guard).check_connection()
        messages.add(str(caught.value))
    assert len(messages) == 1, messages  # open, closed, any service: one sentence
    assert "local or private network" in messages.pop()
    assert listener.accepted == 0  # nothing was even connected to


def test_a_name_that_resolves_again_differently_gets_no_further(listener):
    # the check before connecting is fooled (public answer); the address connected to is checked too
    guard = netguard.NetGuard(resolve=public_resolver)
    with pytest.raises(errors.ConfigurationError, match="local or private network"):
        provider(f"https://127.0.0.1:{listener.port}/EWS/Exchange.asmx", guard).check_connection()
    assert listener.received == b""  # no TLS hello, no request, no credentials


def test_basic_is_never_sent_over_plain_http(listener):
    with pytest.raises(errors.ConfigurationError, match="https://"):
        provider(f"http://127.0.0.1:{listener.port}/EWS/Exchange.asmx", None, auth_type="basic")
    assert listener.accepted == 0


def test_allowed_private_host_is_reached(listener):
    guard = netguard.NetGuard.from_setting("127.0.0.1")
    with pytest.raises(errors.SyncError) as caught:
        provider(f"https://127.0.0.1:{listener.port}/EWS/Exchange.asmx", guard, max_wait=0.1).check_connection()
    assert "local or private" not in str(caught.value)
    assert listener.accepted >= 1
