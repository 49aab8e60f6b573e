"""What each mode is: its media slots, its parameter model, its geometry.

Values here cross module boundaries (the bot builds slash commands from
`ModeSpec`, the CLI from the same), so they are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from engine.errors import ParamInvalid
from engine.modes import params as p

MODE_NAMES = ("t2v", "a2v", "i2v", "lipsync", "keyframe", "style")

MediaKind = Literal["image", "audio", "video"]


@dataclass(frozen=True)
class Limits:
    """Per-deployment bounds on what users may ask for (a guild may tighten them)."""

    max_duration_s: float = 10.0
    max_width: int = 1280
    max_height: int = 1280
    max_prompt_chars: int = 2000

    @classmethod
    def of(cls, config: object) -> Limits:
        """From anything carrying the same four fields (the deployment's
        Settings), so the CLI and the bot read them one way."""
        return cls(**{f.name: getattr(config, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class MediaSlot:
    name: str
    kind: MediaKind
    required: bool
    description: str


@dataclass(frozen=True)
class MediaInfo:
    """What media ingestion learned about an input. `fps` is the frame rate of a
    video when known (style uses it to predict the frame count)."""

    kind: MediaKind
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    has_audio: bool = False
    fps: float | None = None

    @classmethod
    def of(cls, stored: object) -> MediaInfo:
        """From an ingested input (`engine.media.StoredInput` carries these fields)."""
        return cls(**{f.name: getattr(stored, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class ModeSpec:
    """A mode. `size_multiple`: what the graph's output size is a multiple of
    (two-stage modes render at half size and upscale 2x, hence 64). `timed`: the
    user picks a duration (style takes its length from the source video).
    `audio_slot`: the input whose sound is kept and bounds the duration.
    `size_from`: the input whose aspect ratio sets the default size."""

    name: str
    description: str
    params_model: type[p.BaseParams]
    media: tuple[MediaSlot, ...]
    template: str
    two_stage: bool
    size_multiple: int
    default_fps: int
    prompt_required: bool
    timed: bool = True
    audio_slot: str | None = None
    size_from: str | None = None


_IMAGE = MediaSlot("image", "image", True, "The picture to animate.")
_PORTRAIT = MediaSlot("image", "image", True, "A portrait whose face will speak.")
_AUDIO = MediaSlot("audio", "audio", True, "The sound the video is made for; it is kept.")
_SPEECH = MediaSlot("audio", "audio", True, "The speech to lip-sync; it is kept.")

MODES: dict[str, ModeSpec] = {
    spec.name: spec
    for spec in (
        ModeSpec(
            "t2v",
            "Text to video, with generated sound.",
            p.T2VParams,
            (),
            "video_ltx2_3_t2v",
            two_stage=True,
            size_multiple=64,
            default_fps=25,
            prompt_required=True,
        ),
        ModeSpec(
            "a2v",
            "Audio to video: pictures made for your sound, which is kept.",
            p.A2VParams,
            (_AUDIO,),
            "video_ltx2_3_ia2v",
            two_stage=True,
            size_multiple=64,
            default_fps=24,
            prompt_required=True,
            audio_slot="audio",
        ),
        ModeSpec(
            "i2v",
            "Image to video, with generated sound.",
            p.I2VParams,
            (_IMAGE,),
            "video_ltx2_3_i2v",
            two_stage=True,
            size_multiple=64,
            default_fps=25,
            prompt_required=True,
            size_from="image",
        ),
        ModeSpec(
            "lipsync",
            "A portrait speaking your audio, which is kept.",
            p.LipsyncParams,
            (_PORTRAIT, _SPEECH),
            "video_ltx2_3_ia2v",
            two_stage=True,
            size_multiple=64,
            default_fps=24,
            prompt_required=False,
            audio_slot="audio",
            size_from="image",
        ),
        ModeSpec(
            "keyframe",
            "A video from a first and a last frame, with generated sound.",
            p.KeyframeParams,
            (
                MediaSlot("first_image", "image", True, "The first frame."),
                MediaSlot("last_image", "image", True, "The last frame."),
            ),
            "video_ltx2_3_flf2v",
            two_stage=False,
            size_multiple=32,
            default_fps=25,
            prompt_required=False,
            size_from="first_image",
        ),
        ModeSpec(
            "style",
            "Restyle a video after a style image; the video's sound is kept.",
            p.StyleParams,
            (
                MediaSlot("style_image", "image", True, "The look to give the video."),
                MediaSlot("video", "video", True, "The video to restyle (its motion is kept)."),
            ),
            "video_ltx2_3_ic_lora",
            two_stage=False,
            size_multiple=32,
            default_fps=25,
            prompt_required=False,
            timed=False,
            audio_slot="video",
            size_from="video",
        ),
    )
}


def get_mode(name: str) -> ModeSpec:
    spec = MODES.get(name)
    if spec is None:
        raise ParamInvalid(param="mode", value=name, allowed=", ".join(MODE_NAMES))
    return spec
