# One image for web, worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

# No system packages: every native part (psycopg, lxml, the typst PDF compiler) is a wheel.
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
 && useradd --system --home /app studycircle && mkdir -p /app/var && chown studycircle /app/var
USER studycircle

EXPOSE 8000
# Workers: config/gunicorn.py (WEB_CONCURRENCY, else 2 per CPU core plus 1).
CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
