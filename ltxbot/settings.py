"""The one typed settings object.

Built once by the CLI (`Settings()`), then passed down explicitly. Nothing in
the project instantiates settings at import time, so tests build their own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob of ltx-bot. Env vars are `LTXBOT_<NAME>`; `.env` is read too."""

    model_config = SettingsConfigDict(
        env_prefix="LTXBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- Discord -------------------------------------------------------------
    discord_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("LTXBOT_DISCORD_TOKEN", "DISCORD_TOKEN", "discord_token"),
        description="Bot token from the Discord developer portal. `DISCORD_TOKEN` works too.",
    )
    discord_api_base: str = Field(
        default="https://discord.com/api/v10",
        description="REST base URL. Point it at a REST proxy (nirn-proxy) or a test server.",
    )
    discord_gateway_url: str = Field(
        default="wss://gateway.discord.gg",
        description="Gateway websocket URL used instead of the one Discord advertises.",
    )
    dev_guild_id: int | None = Field(
        default=None,
        description="If set, slash commands are synced to this guild only (instant updates).",
    )
    owner_ids: list[int] = Field(
        default_factory=list,
        description="Discord user ids of the bot owners (global pause/resume). JSON list.",
    )

    # --- Storage -------------------------------------------------------------
    data_dir: Path = Field(
        default=Path("data"),
        validate_default=True,
        description=(
            "Everything the bot writes: SQLite database, inputs, outputs, temp files. "
            "A relative path is taken from the working directory at start."
        ),
    )

    # --- ComfyUI / engine ----------------------------------------------------
    comfyui_dir: Path | None = Field(
        default=None,
        description=(
            "A ComfyUI checkout to run, used as is. Default: `comfyui/ComfyUI` as set up "
            "by `ltx-bot setup`."
        ),
    )
    comfyui_source: Path | None = Field(
        default=None,
        description=(
            "An archive (.tar.xz, .tar.gz, .zip) or folder of the pinned ComfyUI tree that "
            "`ltx-bot setup` unpacks into `comfyui/ComfyUI` instead of cloning it, for "
            "machines that cannot reach GitHub."
        ),
    )
    workflows_dir: Path = Field(
        default=REPO_ROOT / "workflows",
        description="API-format workflows, one `<mode>.json` per mode, bound by `ltx:*` titles.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto",
        description="`cpu` forces ComfyUI onto the CPU; `auto` lets ComfyUI pick the GPU.",
    )
    comfy_args: list[str] = Field(
        default_factory=list,
        description='Extra ComfyUI command-line flags, JSON list (e.g. `["--lowvram"]`).',
    )
    previews: bool = Field(
        default=True,
        description=(
            "Live previews: while the sampler runs, the job card shows a still of the "
            "video taking shape (a latent-to-RGB picture, at most one a second)."
        ),
    )
    cuda_graphs: bool = Field(
        default=False,
        description=(
            "Replay LTX-2's transformer blocks as CUDA graphs, so the sampler's steps are "
            "not held up by Python (GPU only; a shape graphs cannot hold runs as before)."
        ),
    )
    warmup: Literal["auto", "on", "off"] = Field(
        default="auto",
        description=(
            "Load the models with a tiny job per mode (LTXBOT_WARMUP_MODES) as soon as "
            "the engine starts, so the first video after a restart runs warm; `auto`: on "
            "a GPU only."
        ),
    )
    warmup_modes: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "The modes the warm-up runs, in order: comma-separated (`t2v,keyframe`) or a "
            "JSON list. Default: t2v, and keyframe too when the card holds both checkpoint "
            "families (their files take at most 75% of its memory) and ComfyUI's cache keeps "
            "both (`--cache-lru 100` or more in LTXBOT_COMFY_ARGS)."
        ),
    )
    timeout_min_s: float = Field(default=60.0, description="Lower clamp of a job's time budget.")
    timeout_max_s: float = Field(default=1800.0, description="Upper clamp of a job's time budget.")
    interrupt_grace_s: float = Field(
        default=30.0,
        description=(
            "After a timeout's interrupt, how long ComfyUI may take to stop; then the job "
            "fails (refunded) and the bot exits (code 3) for its supervisor to restart it."
        ),
    )
    cold_load_s: float = Field(
        default=90.0, description="Extra budget for the first job, while models load."
    )

    # --- Limits users see ------------------------------------------------------
    max_duration_s: float = Field(default=10.0, description="Longest video a user may ask for.")
    max_width: int = Field(default=1280, description="Widest output a user may ask for.")
    max_height: int = Field(default=1280, description="Tallest output a user may ask for.")
    max_prompt_chars: int = Field(default=2000, description="Longest prompt accepted.")
    max_queued_per_user: int = Field(default=3, description="Jobs one user may have waiting.")
    max_queue_total: int = Field(default=50, description="Jobs the whole queue may hold.")
    max_queued_per_guild: int = Field(
        default=20,
        description="Jobs one server may have waiting, so that no server fills the queue.",
    )
    max_attachment_mb: float = Field(default=25.0, description="Largest attachment downloaded.")
    download_timeout_s: float = Field(
        default=60.0,
        description=(
            "Longest an attachment download may take. Only Discord's CDN hosts (and the "
            "API base's host) are fetched, and redirects are never followed."
        ),
    )

    # --- Disk ------------------------------------------------------------------
    retention_days: float = Field(
        default=30.0,
        description=(
            "Results, inputs and ComfyUI's copies older than this are deleted (hourly); "
            "`/ltx show` works for this long. 0 keeps them forever."
        ),
    )
    retention_max_gb: float = Field(
        default=0.0,
        description="Cap on those files' total size; the oldest go first. 0 is no cap.",
    )
    min_free_mb: float = Field(
        default=2048.0,
        description="New jobs are refused while the data disk has less free space than this.",
    )

    # --- Scale-out (docs/scale-out.md) ------------------------------------------
    redis_url: SecretStr | None = Field(
        default=None,
        description=(
            "Redis for GPU workers on other processes or machines "
            "(`redis://:password@host:6379/0`, `rediss://` for TLS). "
            "Unset: the bot runs jobs itself, as always."
        ),
    )
    worker_id: str | None = Field(
        default=None,
        description="This worker's name in `/ltx queue` and its SAQ queue; unset: host-pid.",
    )
    worker_modes: list[str] = Field(
        default_factory=list,
        description="Modes this worker offers, JSON list; default every mode whose workflow fits.",
    )

    log_level: str = Field(default="INFO", description="Python logging level.")

    @field_validator("warmup_modes", mode="before")
    @classmethod
    def _comma_list(cls, v: Any) -> Any:
        """`t2v,keyframe` as well as the JSON list the other list settings take."""
        if not isinstance(v, str):
            return v
        if v.strip().startswith("["):
            return json.loads(v)
        return [m.strip() for m in v.split(",") if m.strip()]

    @field_validator("data_dir", "workflows_dir", "comfyui_dir", "comfyui_source")
    @classmethod
    def _absolute(cls, v: Path | None) -> Path | None:
        """Every path is made absolute once, here: ComfyUI mixes the folders it
        is given with absolute ones (SaveVideo fails on a relative output dir),
        and a later chdir must not move the bot's data."""
        return v.expanduser().resolve() if v is not None else None

    # Derived paths: one place decides the data-dir layout.
    @property
    def db_path(self) -> Path:
        return self.data_dir / "ltxbot.sqlite3"

    @property
    def inputs_dir(self) -> Path:
        return self.data_dir / "inputs"

    @property
    def outputs_dir(self) -> Path:
        return self.data_dir / "outputs"

    @property
    def comfy_io_dir(self) -> Path:
        """ComfyUI's input/output/temp folders live here, apart from our own."""
        return self.data_dir / "comfy"
