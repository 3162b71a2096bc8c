# yunjian production image: slim Python, non-root, static files collected at build, gunicorn.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings to load: throwaway random secrets, generated for this build and never kept.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    SYNC_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    FIELD_ENCRYPTION_KEY="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    DEBUG=false ALLOWED_HOSTS=localhost STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --no-input \
 && useradd --system --uid 10001 --home /app yunjian \
 && mkdir -p /data && chown yunjian /data

USER yunjian
ENV STATIC_ROOT=/app/staticfiles \
    STORAGE_ROOT=/data/media \
    YUNJIAN_VAR_DIR=/data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["gunicorn", "yunjian.wsgi:application", "--config", "python:yunjian.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "3"]
