# syntax=docker/dockerfile:1
# ltx-bot on an NVIDIA GPU: CUDA torch, ComfyUI at the pinned commit, the bot.
#   cp .env.example .env   # then put the Discord token in it
#   docker compose up -d --build
# docs/operator-guide.md has the whole walk-through. Layers go from the least to
# the most often changed: system packages, CUDA torch, the pinned ComfyUI (rebuilt
# only when comfyui/pin.toml or the bootstrap changes), then the bot's code.

ARG CUDA_IMAGE=nvidia/cuda:12.8.1-runtime-ubuntu24.04
FROM ${CUDA_IMAGE}

# PyPI's Linux wheels of this torch are CUDA 12.8 builds, matching the base image
# (NVIDIA driver 570 or newer). Change all three together.
ARG TORCH_VERSION=2.10.0
ARG TORCHVISION_VERSION=0.25.0
ARG TORCHAUDIO_VERSION=2.10.0
# The ComfyUI commit baked into the image: comfyui/pin.toml's, unless overridden
# with --build-arg COMFYUI_COMMIT=<full sha> to try another one.
ARG COMFYUI_REPO=https://github.com/comfyanonymous/ComfyUI.git
ARG COMFYUI_COMMIT=783545f689a0af730065994b46b382ae24844c99
ARG UID=1000
ARG GID=1000

LABEL org.opencontainers.image.title="ltx-bot" \
      org.opencontainers.image.description="Discord bot that turns a GPU box into an LTX-2.3 video studio" \
      org.opencontainers.image.licenses="GPL-3.0-or-later" \
      io.ltx-bot.comfyui.repo="${COMFYUI_REPO}" \
      io.ltx-bot.comfyui.commit="${COMFYUI_COMMIT}"

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# git for the ComfyUI bootstrap; sqlite3 for online backups of the job database
# (`sqlite3 /data/ltxbot.sqlite3 ".backup ..."`); libGL/EGL for ComfyUI's
# PyOpenGL requirement. Distribution versions move with the base image.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates git python3 python3-venv sqlite3 libgl1 libegl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*

# The base image has an 'ubuntu' user at uid 1000; the bot gets its own.
RUN (userdel --remove ubuntu 2>/dev/null || true) \
 && groupadd --gid "${GID}" ltx \
 && useradd --uid "${UID}" --gid "${GID}" --create-home --shell /bin/bash ltx \
 && mkdir -p /data /hf \
 && chown ltx:ltx /data /hf

RUN python3 -m venv /opt/venv \
 && pip install --no-cache-dir \
      "torch==${TORCH_VERSION}" \
      "torchvision==${TORCHVISION_VERSION}" \
      "torchaudio==${TORCHAUDIO_VERSION}"

WORKDIR /app

# The same bootstrap as `ltx-bot setup`, run before the project is installed: it
# needs only these files (and the standard library), so this layer is reused
# until the pin or the bootstrap changes. It keeps the torch installed above.
COPY comfyui/pin.toml comfyui/pin.toml
COPY ltxbot/__init__.py ltxbot/setup.py ltxbot/_setup_pip.py ltxbot/
COPY engine/__init__.py engine/
COPY engine/errors/ engine/errors/
COPY engine/comfy/__init__.py engine/comfy/locate.py engine/comfy/
RUN python -m ltxbot.setup --repo "${COMFYUI_REPO}" --commit "${COMFYUI_COMMIT}"

# The bot itself, editable so that its paths (workflows/, comfyui/ComfyUI) stay
# under /app as in a git checkout.
COPY . .
RUN pip install --no-cache-dir -e . \
 && python -c "import torch; assert torch.version.cuda, 'torch lost its CUDA build'"

ENV LTXBOT_DATA_DIR=/data \
    HF_HOME=/hf

# Job database, inputs and outputs; the Hugging Face cache with the model files.
VOLUME ["/data", "/hf"]

USER ${UID}:${GID}

# Files, database, settings and the bot's heartbeat; fast enough to run often.
HEALTHCHECK --interval=60s --timeout=30s --start-period=5m --retries=3 \
  CMD ["ltx-bot", "doctor", "--quick"]

ENTRYPOINT ["ltx-bot"]
CMD ["run"]
