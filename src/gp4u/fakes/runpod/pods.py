"""Pods as the fake RunPod shows them: `pod_record` renders a `FakeInstance` in RunPod's `Pod`
shape (a pod whose desiredStatus is RUNNING has `runtime: null` while it boots, and a terminated
pod is forgotten, so it renders as None), with the `runtime` block of ports and GPUs that a
running pod reports.
"""

from __future__ import annotations

import time
from typing import Any

from gp4u.fakes.kit import FakeInstance, FakeState


def pod_record(state: FakeState, instance: FakeInstance, now: float) -> dict[str, Any] | None:
    """A pod as RunPod shows it, or None once terminated (RunPod forgets terminated pods)."""
    phase = instance.state(now)
    if phase == "terminated":
        return None
    attrs = instance.attrs
    status = attrs.get("desiredStatus", "RUNNING")
    running = phase == "running" and status == "RUNNING"
    started = instance.created + instance.boot_seconds
    number = int(instance.id) if instance.id.isdigit() else 0
    record = {
        "id": instance.id,
        "name": attrs.get("name", ""),
        "desiredStatus": status,
        "imageName": attrs.get("imageName", "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel"),
        "gpuCount": attrs.get("gpuCount", 1),
        "vcpuCount": attrs.get("vcpuCount", 8),
        "memoryInGb": attrs.get("memoryInGb", 62),
        "costPerHr": attrs.get("costPerHr", 0.69),
        "podType": attrs.get("podType", "RESERVED"),
        "containerDiskInGb": attrs.get("containerDiskInGb", 50),
        "volumeInGb": attrs.get("volumeInGb", 0),
        "volumeMountPath": "/workspace",
        "dockerArgs": attrs.get("dockerArgs", ""),
        "dockerId": None,
        "env": [f"{e['key']}={e['value']}" for e in attrs.get("env", []) if isinstance(e, dict)],
        "port": None,
        "ports": attrs.get("ports", "22/tcp"),
        "machineId": f"m{number:06d}",
        "lastStatusChange": time.strftime("Rented by User: %a %b %d %Y", time.gmtime(started)),
        "uptimeSeconds": int(now - started) if running else 0,
        "machine": {
            "gpuDisplayName": attrs.get("gpuDisplayName", "RTX 4090"),
            "gpuTypeId": attrs.get("gpuTypeId", "NVIDIA GeForce RTX 4090"),
            "podHostId": f"{instance.id}-64410b1c",
            "location": attrs.get("location", "US"),
        },
        "runtime": runtime(number, now - started) if running else None,
    }
    return state.strip(record)


def runtime(number: int, uptime: float) -> dict[str, Any]:
    ip = f"203.0.113.{number % 250 + 1}"
    return {
        "uptimeInSeconds": int(uptime),
        "ports": [
            {
                "ip": ip,
                "isIpPublic": True,
                "privatePort": 22,
                "publicPort": 10000 + number % 50000,
                "type": "tcp",
            },
            {
                "ip": "10.0.0.2",
                "isIpPublic": False,
                "privatePort": 8888,
                "publicPort": 8888,
                "type": "http",
            },
        ],
        "gpus": [{"id": "GPU-0", "gpuUtilPercent": 0, "memoryUtilPercent": 0}],
    }
