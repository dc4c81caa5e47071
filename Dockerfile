# One image for the four services, the gateway and the sandbox (the command picks which):
#   python -m service_runtime.run groups|posts|notify|tips
#   gunicorn -c gateway/gunicorn.conf.py gateway.wsgi:app
#   python -m sandbox.server --host 0.0.0.0 --port 8900 --smtp-port 2525     (sandbox profile)
#   binhyen health SERVICE                                                     (healthchecks)
#
# Stage 1 builds wheels of the runtime dependencies, pinned by constraints.txt, and
# installs them into a virtualenv; stage 2 copies that virtualenv and the source into a
# slim image that runs as an unprivileged user. The code runs from /app (not from
# site-packages) because it finds config/ and data/ beside itself.
#
# No SecantusDB here: it is GPL and beta, a development and test dependency only
# (pyproject's `dev` extra), never installed in this image.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml constraints.txt ./
# The runtime dependencies only (not the `dev` extra), exactly as pyproject lists them.
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
open('requirements.txt', 'w').write(chr(10).join(deps) + chr(10))" \
 && ! grep -qi secantus requirements.txt \
 && pip wheel --wheel-dir /wheels -r requirements.txt -c constraints.txt \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-index --find-links /wheels -r requirements.txt -c constraints.txt \
 && ! /opt/venv/bin/pip show secantusdb >/dev/null 2>&1

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="binhyen" \
      org.opencontainers.image.description="Bình Yên: police community outreach over social networks"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000
RUN groupadd --system --gid 10001 binhyen \
 && useradd --system --uid 10001 --gid binhyen --home-dir /app --no-create-home --shell /usr/sbin/nologin binhyen
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY contracts contracts
COPY service_runtime service_runtime
COPY services services
COPY gateway gateway
COPY tools tools
COPY sandbox sandbox
COPY config config
COPY data data
COPY pyproject.toml ./
# `binhyen` on the PATH (the container healthcheck), running the code in /app.
RUN printf '#!/bin/sh\nexec python -m tools.cli "$@"\n' > /usr/local/bin/binhyen \
 && chmod 0755 /usr/local/bin/binhyen \
 && python -m compileall -q contracts service_runtime services gateway tools sandbox \
 && chown -R root:root /app && chmod -R a+rX,go-w /app
# Code and data belong to root and are read-only to the process; it writes only to /tmp.
USER 10001:10001
EXPOSE 8000
CMD ["gunicorn", "-c", "gateway/gunicorn.conf.py", "gateway.wsgi:app"]
