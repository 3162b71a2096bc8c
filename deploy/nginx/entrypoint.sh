#!/bin/sh
# Renders deploy/nginx/yunjian.conf.template with the YUNJIAN_* variables (only those: nginx's own
# $variables stay), checks the result and runs nginx in the foreground.
set -eu
: "${YUNJIAN_PROXY_SECRET:?set YUNJIAN_PROXY_SECRET (the same value as CA_PROXY_SECRET of the app)}"
export YUNJIAN_LISTEN="${YUNJIAN_LISTEN:-443}"
export YUNJIAN_SERVER_NAME="${YUNJIAN_SERVER_NAME:-_}"
export YUNJIAN_UPSTREAM="${YUNJIAN_UPSTREAM:-web:8000}"
export YUNJIAN_TLS_CERT="${YUNJIAN_TLS_CERT:-/etc/yunjian/tls/server.pem}"
export YUNJIAN_TLS_KEY="${YUNJIAN_TLS_KEY:-/etc/yunjian/tls/server.key}"
export YUNJIAN_CA_BUNDLE="${YUNJIAN_CA_BUNDLE:-/etc/yunjian/ca/ca-bundle.pem}"
export YUNJIAN_CA_CRL="${YUNJIAN_CA_CRL:-/etc/yunjian/ca/crl.pem}"
vars='${YUNJIAN_LISTEN} ${YUNJIAN_SERVER_NAME} ${YUNJIAN_UPSTREAM} ${YUNJIAN_TLS_CERT} ${YUNJIAN_TLS_KEY} ${YUNJIAN_CA_BUNDLE} ${YUNJIAN_CA_CRL} ${YUNJIAN_PROXY_SECRET}'
envsubst "$vars" < /etc/nginx/templates/yunjian.conf.template > /etc/nginx/conf.d/yunjian.conf
nginx -t
exec nginx -g 'daemon off;'
