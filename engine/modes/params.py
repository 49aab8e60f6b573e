"""The parameter model of each mode (pydantic), shared by the slash commands and
`ltx-bot render`.

These models check types and fixed ranges. Bounds that depend on the deployment
(`Limits`) or on the inputs (an audio's length) are applied by `parse_params`,
which also fills what was left open (size, duration, seed) so that a stored job
replays exactly. Parsing a model's own dump gives the same model back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Preset = Literal["fast", "balanced", "quality"]
PRESETS: tuple[str, ...] = ("fast", "balanced", "quality")
SEED_MAX = 2**32 - 1
FPS_MIN, FPS_MAX = 8, 60


class BaseParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    prompt: str = Field("", description="What the video shows.")
    negative_prompt: str | None = Field(
        None, description="What to avoid (default: the workflow's own negative prompt)."
    )
    width: int | None = Field(None, description="Width in pixels; snapped to the model's grid.")
    height: int | None = Field(None, description="Height in pixels; snapped to the model's grid.")
    fps: int = Field(25, ge=FPS_MIN, le=FPS_MAX, description="Frames per second.")
    seed: int | None = Field(
        None, ge=0, le=SEED_MAX, description="Seed for a repeatable result (random if empty)."
    )
    preset: Preset = Field("balanced", description="Fast, Balanced or Quality.")
    enhance_prompt: bool = Field(False, description="Let Gemma rewrite the prompt with detail.")

    if TYPE_CHECKING:
        # Every mode's model has a duration (`Timed`, `StyleParams`), declared
        # there so that each keeps its own description and option order; the
        # checker is told here so that code holding any mode's model may read it.
        duration_s: float | None

    @field_validator("preset", mode="before")
    @classmethod
    def _lower_preset(cls, v: object) -> object:
        return v.strip().lower() if isinstance(v, str) else v


class Timed(BaseParams):
    duration_s: float | None = Field(
        None, gt=0, description="Length in seconds (made into 8k+1 frames)."
    )


class FromAudio(Timed):
    fps: int = Field(24, ge=FPS_MIN, le=FPS_MAX, description="Frames per second.")
    start_s: float = Field(0.0, ge=0, description="Where in the audio to start, in seconds.")


def _required_prompt() -> str:
    return Field(..., min_length=1, description="What the video shows.")


class T2VParams(Timed):
    prompt: str = _required_prompt()


class A2VParams(FromAudio):
    prompt: str = _required_prompt()


class I2VParams(Timed):
    prompt: str = _required_prompt()


class LipsyncParams(FromAudio):
    pass


class KeyframeParams(Timed):
    pass


class StyleParams(BaseParams):
    start_s: float = Field(0.0, ge=0, description="Where in the video to start, in seconds.")
    duration_s: float | None = Field(
        None,
        gt=0,
        description="Length of the source window; set from the video (at most the limit).",
    )
    source_fps: float | None = Field(
        None, gt=0, description="The source video's frame rate; set from the video when known."
    )
