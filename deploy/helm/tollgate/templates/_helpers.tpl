{{/* Names and labels. */}}
{{- define "tollgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tollgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "tollgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tollgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tollgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "tollgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "tollgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tollgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tollgate.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding token hashes and the Redis password, if any. */}}
{{- define "tollgate.secretName" -}}
{{- default (include "tollgate.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "tollgate.hasSecret" -}}
{{- if or .Values.tokens .Values.redisAuth.enabled -}}true{{- end -}}
{{- end -}}

{{- define "tollgate.oauth2ProxySecretName" -}}
{{- default (printf "%s-oauth2-proxy" (include "tollgate.fullname" .)) .Values.oauth2Proxy.existingSecret -}}
{{- end -}}

{{/*
The configuration file: .Values.config as written, plus what the chart owns
(listen, metrics_listen, auth.tokens, cache.redis.password_file). Refuses
what would put a secret into the ConfigMap or contradict the pod.
*/}}
{{- define "tollgate.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) -}}
{{- range $k := list "listen" "metrics_listen" -}}
{{- if hasKey $cfg $k -}}
{{- fail (printf "config.%s is set by the chart from ports; remove it from config" $k) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $cfg "listen" (printf "0.0.0.0:%v" .Values.ports.http) -}}
{{- $_ := set $cfg "metrics_listen" (printf "0.0.0.0:%v" .Values.ports.metrics) -}}
{{- $auth := get $cfg "auth" | default dict -}}
{{- if hasKey $auth "tokens" -}}
{{- fail "config.auth.tokens would put token hashes in the ConfigMap; list the tokens under `tokens` (their hashes go into the Secret)" -}}
{{- end -}}
{{- if .Values.tokens -}}
{{- $tokens := list -}}
{{- range $t := .Values.tokens -}}
{{- if not (regexMatch "^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$" (toString $t.name)) -}}
{{- fail (printf "tokens: name %q must be lowercase letters, digits, '.', '_' or '-' (it names a Secret key)" (toString $t.name)) -}}
{{- end -}}
{{- $tokens = append $tokens (dict "name" $t.name "groups" $t.groups "sha256_file" (printf "%s/token-%s.sha256" $.Values.secrets.mountPath $t.name)) -}}
{{- end -}}
{{- $_ := set $auth "tokens" $tokens -}}
{{- end -}}
{{- if $auth -}}
{{- $_ := set $cfg "auth" $auth -}}
{{- end -}}
{{- if .Values.oauth2Proxy.enabled -}}
{{- $th := get $auth "trusted_headers" | default dict -}}
{{- if not (has "127.0.0.0/8" ($th.trusted_cidrs | default list)) -}}
{{- fail "oauth2Proxy.enabled: config.auth.trusted_headers must trust the sidecar on loopback (trusted_cidrs: [127.0.0.0/8])" -}}
{{- end -}}
{{- end -}}
{{- $cache := get $cfg "cache" | default dict -}}
{{- $redis := get $cache "redis" | default dict -}}
{{- if hasKey $redis "password" -}}
{{- fail "config.cache.redis.password would put the password in the ConfigMap; use redisAuth (the password goes into the Secret)" -}}
{{- end -}}
{{- if .Values.redisAuth.enabled -}}
{{- if hasKey $redis "password_file" -}}
{{- fail "config.cache.redis.password_file is set by the chart with redisAuth.enabled; remove it from config" -}}
{{- end -}}
{{- $_ := set $redis "password_file" (printf "%s/redis-password" .Values.secrets.mountPath) -}}
{{- $_ := set $cache "redis" $redis -}}
{{- $_ := set $cfg "cache" $cache -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}
