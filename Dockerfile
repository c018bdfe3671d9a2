# The application image jiebang/app: the web app (gunicorn), `jiebang worker` and the CLI.
# Build it with `bash scripts/build-app-image.sh`: that script makes the wheelhouse on the
# host and runs `docker build --network none` on a context holding this file and wheels/.
# Nothing is pulled: the base is the locally built jiebang/python:3.11 (Debian bookworm).
FROM jiebang/python:3.11 AS build
# scripts/build-app-image.sh removes this stage's image (it holds the wheels) after a build.
LABEL jiebang.build-stage=app
USER root
COPY wheels /wheels
# A venv of our own: pyproject needs newer numpy, pandas and scikit-learn than Debian's, and
# the venv does not see Debian's dist-packages. pip runs from its wheel and is not kept.
RUN python3 -m venv --without-pip /opt/jiebang \
 && pip_wheel="$(ls /wheels/pip-*.whl)" \
 && /opt/jiebang/bin/python "$pip_wheel/pip" install --no-index --find-links /wheels \
      --no-cache-dir --disable-pip-version-check jiebang \
 && /opt/jiebang/bin/python -c "import sklearn, pandas, psycopg, gunicorn, web.wsgi" \
 && cd /opt/jiebang/lib/python3.11/site-packages \
 && find numpy pandas scipy sklearn -depth -type d -name tests -exec rm -rf {} + \
 && /opt/jiebang/bin/python -c "import scipy.optimize, sklearn.linear_model, sklearn.metrics"

FROM jiebang/python:3.11
USER root
# uid 10001 is the sandbox's; the platform runs as its own user.
RUN echo 'jiebang:x:10002:10002:jiebang:/home/jiebang:/usr/sbin/nologin' >>/etc/passwd \
 && echo 'jiebang:x:10002:' >>/etc/group \
 && mkdir -p /home/jiebang /var/lib/jiebang \
 && chown 10002:10002 /home/jiebang /var/lib/jiebang
COPY --from=build /opt/jiebang /opt/jiebang
ENV PATH=/opt/jiebang/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    VIRTUAL_ENV=/opt/jiebang \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/jiebang \
    JIEBANG_DATA_DIR=/var/lib/jiebang
WORKDIR /home/jiebang
# The web app and the CLI run unprivileged; the worker is started as root (see
# docker-compose.yml): it drives Jiebang's own Docker engine (/run/jiebang/docker.sock, never the
# host's) and mounts each run's /output tmpfs.
USER 10002:10002
EXPOSE 5000
CMD ["gunicorn", "--bind", "0.0.0.0:5000", "--workers", "2", "--threads", "8", "web.wsgi:app"]
