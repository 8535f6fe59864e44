#!/bin/sh
# One-shot ELK setup, run by the `elk-setup` service (curlimages/curl) and safe to
# run again: the log retention policy, the index template that uses it, the
# kibana_system password, Logstash's own writer, then the dashboard once Kibana
# answers.
#   ELASTICSEARCH_URL, KIBANA_URL, ELASTIC_PASSWORD, KIBANA_PASSWORD, LOGSTASH_PASSWORD,
#   ELASTIC_MONITOR_PASSWORD
#   ELK_DIR (default /elk), ELK_WAIT_S (default 600): how long to wait for Kibana
set -eu

: "${ELASTICSEARCH_URL:=http://elasticsearch:9200}"
: "${KIBANA_URL:=http://kibana:5601}"
: "${ELASTIC_PASSWORD:?set ELASTIC_PASSWORD}"
: "${KIBANA_PASSWORD:?set KIBANA_PASSWORD}"
: "${LOGSTASH_PASSWORD:?set LOGSTASH_PASSWORD}"
: "${ELASTIC_MONITOR_PASSWORD:?set ELASTIC_MONITOR_PASSWORD}"
: "${ELK_DIR:=/elk}"
: "${ELK_WAIT_S:=600}"

auth="elastic:${ELASTIC_PASSWORD}"
json="Content-Type: application/json"

step() { echo "elk-setup: $*"; }

step "log retention policy ugc-logs"
curl -fsS -u "$auth" -X PUT "$ELASTICSEARCH_URL/_ilm/policy/ugc-logs" \
  -H "$json" --data-binary "@$ELK_DIR/elasticsearch/ilm-policy.json" >/dev/null

step "index template ugc-logs"
curl -fsS -u "$auth" -X PUT "$ELASTICSEARCH_URL/_index_template/ugc-logs" \
  -H "$json" --data-binary "@$ELK_DIR/elasticsearch/index-template.json" >/dev/null

step "kibana_system password"
curl -fsS -u "$auth" -X POST "$ELASTICSEARCH_URL/_security/user/kibana_system/_password" \
  -H "$json" --data-binary "{\"password\":\"$KIBANA_PASSWORD\"}" >/dev/null

# role_and_user ROLE ROLE_FILE USER PASSWORD: a role from its file, and a user
# with that role alone, its password set again on every run.
role_and_user() {
  curl -fsS -u "$auth" -X PUT "$ELASTICSEARCH_URL/_security/role/$1" \
    -H "$json" --data-binary "@$ELK_DIR/elasticsearch/$2" >/dev/null
  curl -fsS -u "$auth" -X PUT "$ELASTICSEARCH_URL/_security/user/$3" \
    -H "$json" --data-binary "{\"password\":\"$4\",\"roles\":[\"$1\"]}" >/dev/null
}

# Logstash writes as ugc_logstash, who may only add documents to the ugc-* indices
# (and create them), never read, delete or manage anything.
step "role ugc_logs_writer and user ugc_logstash"
role_and_user ugc_logs_writer logs-writer-role.json ugc_logstash "$LOGSTASH_PASSWORD"

# The metrics exporter reads cluster and index statistics as ugc_monitor, no data.
step "role ugc_metrics_reader and user ugc_monitor"
role_and_user ugc_metrics_reader metrics-reader-role.json ugc_monitor "$ELASTIC_MONITOR_PASSWORD"

# Kibana answers /api/status with 401 to anonymous callers once security is on:
# ask as elastic, or this waits forever.
step "waiting for Kibana at $KIBANA_URL"
waited=0
until curl -fsS -o /dev/null -u "$auth" "$KIBANA_URL/api/status"; do
  if [ "$waited" -ge "$ELK_WAIT_S" ]; then
    step "Kibana did not answer in ${ELK_WAIT_S}s" >&2
    exit 1
  fi
  sleep 5
  waited=$((waited + 5))
done

step "dashboard"
curl -fsS -u "$auth" -X POST "$KIBANA_URL/api/saved_objects/_import?overwrite=true" \
  -H "kbn-xsrf: true" --form "file=@$ELK_DIR/kibana/dashboard.ndjson" >/dev/null
step "done"
