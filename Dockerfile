# One image for the four services and the gateway (the command picks which).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt ./
COPY contracts contracts
COPY service_runtime service_runtime
COPY services services
COPY gateway gateway
COPY tools tools
RUN pip wheel --no-cache-dir -c constraints.txt --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 binhyen
COPY --from=build /wheels /wheels
COPY constraints.txt /tmp/constraints.txt
# No SecantusDB here: it is a development and test dependency only (GPL, beta).
RUN pip install --no-cache-dir -c /tmp/constraints.txt /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY config config
COPY gateway/gunicorn.conf.py gateway/gunicorn.conf.py
USER binhyen
ENV PYTHONUNBUFFERED=1
CMD ["python", "-m", "service_runtime.run", "groups"]
