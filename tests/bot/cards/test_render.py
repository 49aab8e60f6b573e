from bot.cards.render import note_text, params_text, progress_bar, render_card
from engine.events import Progress
from engine.jobs import JobStatus
from tests.engine.jobs._helpers import make_job


def P(fraction: float, node_type: str | None, step: int | None, total: int | None,
      elapsed_s: float) -> Progress:  # fmt: skip
    return Progress(fraction, node_type, step, total, elapsed_s)


def fields(card):
    return {f["name"]: f["value"] for f in card.embed.to_dict()["fields"]}


def test_queued_card_shows_id_mode_params_position_and_countdown_eta():
    card = render_card(make_job(), position=3, eta=1_700_000_123.7)
    d = card.embed.to_dict()
    assert "abc12xyz" in d["title"] and "t2v" in d["title"]
    assert "a cat on a skateboard" in d["description"]
    f = fields(card)
    assert "768×512" in f["Settings"] and "seed 7" in f["Settings"]
    assert "position **3**" in f["Status"]
    assert "<t:1700000123:R>" in f["Status"]
    assert card.cancellable


def test_running_card_shows_progress_node_and_step():
    job = make_job(status=JobStatus.RUNNING, started_at=1000.0)
    card = render_card(job, progress=P(0.5, "KSampler", 4, 8, 75.0))
    status = fields(card)["Status"]
    assert "50%" in status and "Generating · step 4 of 8" in status and "1m 15s" in status
    assert "KSampler" not in status  # stages, not ComfyUI's node names
    assert card.cancellable


def test_finished_cards_are_not_cancellable_and_failures_say_what_to_change():
    done = render_card(make_job(status=JobStatus.SUCCEEDED, started_at=1000.0, finished_at=1042.0))
    assert "Done in 42s" in fields(done)["Status"] and not done.cancellable
    failed = render_card(
        make_job(
            status=JobStatus.FAILED,
            error_code="out_of_memory",
            error_detail="out of GPU memory in VAEDecode: boom",
        )
    )
    status = fields(failed)["Status"]
    assert "VAEDecode" in status and "smaller width/height" in status
    assert not failed.cancellable


def test_restart_note_and_long_prompt_truncation():
    job = make_job(note="restarted", params={"prompt": "x" * 1000})
    card = render_card(job, position=1)
    assert fields(card)["Note"] == note_text("restarted")
    assert "back in the queue" in fields(card)["Note"]
    assert len(card.embed.description) < 320


def test_helpers():
    assert progress_bar(0.0).endswith(" 0%") and progress_bar(1.5).endswith("100%")
    assert params_text({}) == "defaults"
    assert params_text({"duration_s": 5, "fps": 24, "preset": "fast"}) == "5 s · 24 fps · Fast"


def test_a_finished_video_being_posted_says_uploading_not_done():
    job = make_job(status=JobStatus.SUCCEEDED, started_at=1000.0, finished_at=1042.0)
    card = render_card(job, uploading=True)
    status = fields(card)["Status"]
    assert status.startswith("📤 Uploading") and "42s" in status and "Done" not in status
    assert not card.cancellable


def test_only_a_running_card_with_a_still_shows_it():
    still = Progress(fraction=0.3, node_type="SamplerCustomAdvanced", step=2, total=8,
                     elapsed_s=4.0, stage="Generating", preview=b"\xff\xd8jpeg")  # fmt: skip
    plain = Progress(fraction=0.3, node_type="SamplerCustomAdvanced", step=2, total=8,
                     elapsed_s=4.0, stage="Generating")  # fmt: skip
    running = make_job(status=JobStatus.RUNNING, started_at=1.0)
    shown = render_card(running, progress=still).embed.to_dict()
    assert shown["image"]["url"] == "attachment://preview.jpg"
    assert "image" not in render_card(running, progress=plain).embed.to_dict()
    done = make_job(status=JobStatus.SUCCEEDED, started_at=1.0, finished_at=9.0)
    assert "image" not in render_card(done, progress=still).embed.to_dict()
