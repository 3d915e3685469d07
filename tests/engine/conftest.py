import pytest
from rigs import PROVIDERS, RIGS


@pytest.fixture(scope="module", params=PROVIDERS)
def rig_server(request):
    rig = RIGS[request.param]()
    yield rig
    rig.stop()


@pytest.fixture
def rig(rig_server):
    rig_server.reset()
    yield rig_server
    rig_server.server.clear_faults()
    rig_server.server.wait_idle()
