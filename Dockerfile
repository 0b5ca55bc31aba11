# cci-mock as a container: the built wheel in its own venv, run as a non-root user.
# tests/test_docker_path.py runs the same wheel build, venv install, start command and
# health check outside Docker (keep those lines in step with it).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY cci_mock ./cci_mock
RUN pip wheel --no-deps --wheel-dir /dist .

FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
COPY --from=build /dist /dist
RUN python -m venv /opt/cci-mock && /opt/cci-mock/bin/pip install /dist/*.whl && rm -rf /dist
RUN useradd --system --uid 10001 --create-home cci && mkdir /data && chown cci /data
# 0.0.0.0 only inside the container: outside it the default stays 127.0.0.1.
ENV PATH=/opt/cci-mock/bin:$PATH CCI_MOCK_HOST=0.0.0.0 CCI_MOCK_PORT=8080
USER cci
WORKDIR /home/cci
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CCI_MOCK_PORT', '8080'), timeout=2)"]
CMD ["cci-mock", "serve"]
