"""`parse_params`: raw values in, a complete, bounded parameter model out.

Refusals are `ParamInvalid(param, value, allowed)`, raised before any GPU time is
spent. Whatever the user left open is decided here and stored (size, duration,
seed), so a job replays exactly; parsing a parsed model's dump is a no-op.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from engine.errors import ParamInvalid
from engine.modes import _geometry as geo
from engine.modes.params import FPS_MAX, FPS_MIN, SEED_MAX, BaseParams
from engine.modes.spec import Limits, MediaInfo, ModeSpec, get_mode

DEFAULT_DURATION_S = 5.0  # the templates' default
_rng = random.SystemRandom()


def allowed_text(param: str, spec: ModeSpec, limits: Limits) -> str:
    """What a parameter accepts, in words, for error messages."""
    m = spec.size_multiple
    side = {"width": limits.max_width, "height": limits.max_height}
    if param in side:
        return f"{geo.MIN_SIDE}..{side[param]} px, snapped down to a multiple of {m}"
    texts = {
        "prompt": (f"1..{limits.max_prompt_chars} characters" if spec.prompt_required else None)
        or f"at most {limits.max_prompt_chars} characters",
        "negative_prompt": f"at most {limits.max_prompt_chars} characters",
        "fps": f"a whole number {FPS_MIN}..{FPS_MAX}",
        "seed": f"a whole number 0..{SEED_MAX}",
        "preset": "fast, balanced or quality",
        "enhance_prompt": "true or false",
        "duration_s": f"more than 0 and at most {limits.max_duration_s:g} s",
        "start_s": "0 s or more, before the end of the input",
    }
    if param in texts:
        return texts[param]
    slots = {s.name: s for s in spec.media}
    if param in slots:
        kind = slots[param].kind
        article = "an" if kind[0] in "aeiou" else "a"
        return f"{article} {kind} file. {slots[param].description}"
    names = [*spec.params_model.model_fields, *slots]
    return f"one of the parameters of {spec.name}: {', '.join(names)}"


def _from_validation(exc: ValidationError, spec: ModeSpec, limits: Limits) -> ParamInvalid:
    err = exc.errors()[0]
    loc = err.get("loc") or ("params",)
    param = str(loc[0])
    value = None if err.get("type") == "missing" else err.get("input")
    if err.get("type") == "extra_forbidden":
        return ParamInvalid(param=param, value=value, allowed=allowed_text("", spec, limits))
    return ParamInvalid(param=param, value=value, allowed=allowed_text(param, spec, limits))


def _check_media(spec: ModeSpec, media: Mapping[str, MediaInfo], limits: Limits) -> None:
    for slot in spec.media:
        info = media.get(slot.name)
        if info is None:
            if slot.required:
                raise ParamInvalid(
                    param=slot.name, value=None, allowed=allowed_text(slot.name, spec, limits)
                )
            continue
        if info.kind != slot.kind:
            raise ParamInvalid(
                param=slot.name, value=info.kind, allowed=allowed_text(slot.name, spec, limits)
            )


def _size(spec: ModeSpec, p: BaseParams, limits: Limits, media: Mapping[str, MediaInfo]):
    m = spec.size_multiple
    for name, hi in (("width", limits.max_width), ("height", limits.max_height)):
        if geo.snap(hi, m) < geo.MIN_SIDE:  # no size fits: never exceed the maximum silently
            raise ParamInvalid(
                param=name,
                value=getattr(p, name),
                allowed=(
                    f"nothing on this server: its maximum {name} ({hi} px) is below the "
                    f"smallest the model makes ({geo.MIN_SIDE} px); an admin can raise it"
                ),
            )
    asked = (("width", p.width, limits.max_width), ("height", p.height, limits.max_height))
    for name, value, hi in asked:
        if value is not None and not geo.MIN_SIDE <= geo.snap(value, m) <= hi:
            raise ParamInvalid(param=name, value=value, allowed=allowed_text(name, spec, limits))
    ref = media.get(spec.size_from) if spec.size_from else None
    if ref is not None and ref.width and ref.height:
        aspect = ref.width / ref.height
    else:
        aspect = geo.DEFAULT_SIZE[0] / geo.DEFAULT_SIZE[1]
    max_w, max_h = geo.snap(limits.max_width, m), geo.snap(limits.max_height, m)
    if p.width is None and p.height is None:
        return geo.fit_size(aspect, max_w, max_h, m)
    if p.width is not None and p.height is not None:
        return geo.snap(p.width, m), geo.snap(p.height, m)
    if p.width is not None:
        w = geo.snap(p.width, m)
        return w, min(max(geo.snap(round(w / aspect), m), geo.MIN_SIDE), max_h)
    assert p.height is not None  # the one case left: only the height was given
    h = geo.snap(p.height, m)
    return min(max(geo.snap(round(h * aspect), m), geo.MIN_SIDE), max_w), h


def _remaining(spec: ModeSpec, start_s: float, media: Mapping[str, MediaInfo], limits: Limits):
    """Seconds of the audio/video source left after the start offset, if known."""
    info = media.get(spec.audio_slot) if spec.audio_slot else None
    if info is None or info.duration_s is None:
        return None
    if start_s >= info.duration_s:
        allowed = f"0..{info.duration_s:.2f} s (the {spec.audio_slot} is {info.duration_s:.2f} s)"
        raise ParamInvalid(param="start_s", value=start_s, allowed=allowed)
    return info.duration_s - start_s


def _duration(spec: ModeSpec, p: BaseParams, limits: Limits, media: Mapping[str, MediaInfo]):
    asked = p.duration_s
    if asked is not None and asked > limits.max_duration_s + 1e-9:
        raise ParamInvalid(
            param="duration_s", value=asked, allowed=allowed_text("duration_s", spec, limits)
        )
    start = getattr(p, "start_s", 0.0)
    remaining = _remaining(spec, start, media, limits)
    cap = limits.max_duration_s if remaining is None else min(limits.max_duration_s, remaining)
    if asked is None:
        default = cap if (remaining is not None or not spec.timed) else DEFAULT_DURATION_S
        return min(default, cap)
    return min(asked, cap)


def parse_params(
    mode: str,
    raw: Mapping[str, Any],
    limits: Limits,
    media: Mapping[str, MediaInfo] | None = None,
) -> BaseParams:
    """Validate `raw` for `mode` and complete it. `media` (what ingestion learned
    about each input) lets the size follow the input's aspect ratio and caps the
    duration to the audio or video; without it those checks wait for a later call.
    `None` values count as omitted."""
    spec = get_mode(mode)
    values = {k: v for k, v in raw.items() if v is not None}
    try:
        p = spec.params_model.model_validate(values)
    except ValidationError as exc:
        raise _from_validation(exc, spec, limits) from None
    for name in ("prompt", "negative_prompt"):
        text = getattr(p, name)
        if text is not None and len(text) > limits.max_prompt_chars:
            allowed = allowed_text(name, spec, limits)
            raise ParamInvalid(param=name, value=f"{len(text)} characters", allowed=allowed)
    known = dict(media or {})
    if media is not None:
        _check_media(spec, known, limits)
    width, height = _size(spec, p, limits, known)
    duration = _duration(spec, p, limits, known)
    source = known.get(spec.audio_slot) if not spec.timed and spec.audio_slot else None
    src_fps = getattr(p, "source_fps", None) or (source.fps if source is not None else None)
    frames = (
        geo.frames_for(duration, p.fps)
        if spec.timed
        else geo.window_frames(duration, src_fps or p.fps)
    )
    if frames < 9:
        allowed = f"at least {8 / p.fps:.2f} s at {p.fps} fps"
        if not spec.timed or p.duration_s is None:
            allowed += f" (the {spec.audio_slot} after start_s is too short)"
        raise ParamInvalid(param="duration_s", value=round(duration, 3), allowed=allowed)
    seed = p.seed if p.seed is not None else _rng.randrange(SEED_MAX + 1)
    update = {"width": width, "height": height, "duration_s": duration, "seed": seed}
    if not spec.timed and src_fps:
        update["source_fps"] = src_fps
        if "fps" not in values:  # keep the source's pace (and its sound in sync)
            update["fps"] = min(max(round(src_fps), FPS_MIN), FPS_MAX)
    return p.model_copy(update=update)
