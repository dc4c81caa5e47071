"""The cluster set-up police IT runs (deploy/compose.cluster.yml over docker-compose.yml) and
the local one (tools/cluster.py): every node and member is named where the clients and the
other nodes look for them, and a broker list survives being pointed at a vhost."""
import re
from pathlib import Path

import pytest
import yaml

from service_runtime.config import broker_urls, with_vhost
from tools.cluster import Cluster

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("groups", "posts", "notify", "tips", "gateway")


@pytest.fixture(scope="module")
def cluster():
    return yaml.safe_load((ROOT / "deploy" / "compose.cluster.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def base():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def rabbitmq_nodes(cluster, base):
    names = [name for name in {**base["services"], **cluster["services"]} if re.fullmatch(r"rabbitmq(-\d)?", name)]
    return {name: (cluster["services"].get(name, {}).get("hostname") or base["services"][name]["hostname"])
            for name in names}


def test_three_rabbitmq_nodes_share_one_cookie_and_know_each_other(cluster, base):
    nodes = rabbitmq_nodes(cluster, base)
    assert len(nodes) == 3 and len(set(nodes.values())) == 3
    conf = (ROOT / "deploy" / "rabbitmq" / "cluster.conf").read_text(encoding="utf-8")
    listed = re.findall(r"^cluster_formation\.classic_config\.nodes\.\d+ = rabbit@(\S+)$", conf, re.M)
    assert sorted(listed) == sorted(nodes.values())
    for name in nodes:
        mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in cluster["services"][name]["volumes"]}
        assert mounts["/var/lib/rabbitmq/.erlang.cookie"] == "./secrets/rabbitmq/erlang.cookie", name
        assert mounts["/etc/rabbitmq/conf.d/20-cluster.conf"] == "./deploy/rabbitmq/cluster.conf", name
        data = mounts["/var/lib/rabbitmq"]
        assert data in (cluster.get("volumes") or {}) or data in base["volumes"], f"{name}: data not in a volume"


def test_every_client_lists_every_node_and_declares_quorum_queues(cluster, base):
    hosts = set(rabbitmq_nodes(cluster, base).values())
    for name in APP_SERVICES:
        environment = cluster["services"][name]["environment"]
        urls = broker_urls(environment["AMQP_URI"])
        assert {re.search(r"@([^:/]+):5672/$", url).group(1) for url in urls} == hosts, name
        assert environment["RABBITMQ_QUEUE_TYPE"] == "quorum", name
        if name != "gateway":   # the services start once every node is up, so each queue gets a member on each
            assert {f"rabbitmq{suffix}" for suffix in ("", "-2", "-3")} <= set(cluster["services"][name]["depends_on"])


def test_the_mongodb_replica_set_has_three_members_the_services_all_know(cluster, base):
    members = [name for name in {**base["services"], **cluster["services"]} if re.fullmatch(r"mongodb(-\d)?", name)]
    assert len(members) == 3
    script = cluster["services"]["mongodb"]["healthcheck"]["test"][-1]
    initiated = re.findall(r"host: '([^:']+):27017'", script)
    assert sorted(initiated) == sorted(members) and "rs.status()" in script and "catch" in script
    for name in ("groups", "posts", "notify", "tips"):
        uri = cluster["services"][name]["environment"]["MONGODB_URI"]
        assert "replicaSet=rs0" in uri
        assert sorted(re.findall(r"([a-z0-9-]+):27017", uri)) == sorted(members), name


def test_a_local_cluster_is_reached_through_every_node_in_any_vhost(tmp_path):
    local = Cluster("binhyen-test", directory=tmp_path, base_port=5681)
    assert [node.name for node in local.nodes] == [f"binhyen-test-{n}@localhost" for n in (1, 2, 3)]
    assert len({node.dir for node in local.nodes}) == 3
    uri = with_vhost(local.uri(), "binhyen-reliability-1/x")
    assert broker_urls(uri) == [f"amqp://guest:guest@127.0.0.1:{port}/binhyen-reliability-1%2Fx"
                                for port in (5681, 5682, 5683)]
    assert [node.dist_port for node in local.nodes] == [25681, 25682, 25683]
