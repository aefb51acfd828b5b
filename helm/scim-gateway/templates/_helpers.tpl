{{/* Names and labels. */}}
{{- define "scim-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "scim-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "scim-gateway.instanceLabels" -}}
app.kubernetes.io/name: {{ include "scim-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The component label keeps the gateway's selectors from matching the bundled Redis pods. */}}
{{- define "scim-gateway.selectorLabels" -}}
{{ include "scim-gateway.instanceLabels" . }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "scim-gateway.redis.selectorLabels" -}}
{{ include "scim-gateway.instanceLabels" . }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "scim-gateway.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "scim-gateway.labels" -}}
{{ include "scim-gateway.commonLabels" . }}
{{ include "scim-gateway.selectorLabels" . }}
{{- end }}

{{- define "scim-gateway.redis.labels" -}}
{{ include "scim-gateway.commonLabels" . }}
{{ include "scim-gateway.redis.selectorLabels" . }}
{{- end }}

{{- define "scim-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "scim-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "scim-gateway.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "scim-gateway.redis.fullname" -}}
{{- printf "%s-redis" (include "scim-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "true" when more than one gateway pod can run at once. */}}
{{- define "scim-gateway.multiReplica" -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/* The most pods that can run at once: what the throttle divides limits by. */}}
{{- define "scim-gateway.maxPods" -}}
{{- if .Values.autoscaling.enabled }}{{ int .Values.autoscaling.maxReplicas }}{{ else }}{{ int .Values.replicaCount }}{{ end }}
{{- end }}

{{/* external | bundled | "" (no Redis). */}}
{{- define "scim-gateway.redisMode" -}}
{{- if and .Values.redis.external.existingSecret .Values.redis.bundled.enabled }}
{{- fail "redis: set either redis.external.existingSecret or redis.bundled.enabled, not both" }}
{{- else if .Values.redis.external.existingSecret }}external
{{- else if .Values.redis.bundled.enabled }}bundled
{{- end }}
{{- end }}

{{/*
The gateway config's `throttle:` block. Refuses a multi-pod install with per-process limits
(each pod would enforce the full limit) unless throttle.allowPerProcessLimits forces it.
*/}}
{{- define "scim-gateway.throttle" -}}
{{- $multi := include "scim-gateway.multiReplica" . }}
{{- $redis := include "scim-gateway.redisMode" . }}
{{- $backend := .Values.throttle.backend }}
{{- if eq $backend "auto" }}
{{- $backend = ternary "redis" "local" (or (ne $redis "") (eq $multi "true")) }}
{{- end }}
{{- if and (eq $backend "redis") (eq $redis "") }}
{{- if and $multi .Values.throttle.allowPerProcessLimits (eq .Values.throttle.backend "auto") }}
{{- $backend = "local" }}
{{- else if $multi }}
{{- fail (printf "more than one gateway pod (replicaCount %v, autoscaling %v) needs limits shared through Redis: set redis.external.existingSecret or redis.bundled.enabled (or force per-process limits with throttle.allowPerProcessLimits: true)" .Values.replicaCount .Values.autoscaling.enabled) }}
{{- else }}
{{- fail "throttle.backend is redis but no Redis is configured: set redis.external.existingSecret or redis.bundled.enabled" }}
{{- end }}
{{- end }}
{{- if and $multi (eq $backend "local") (not .Values.throttle.allowPerProcessLimits) }}
{{- fail "throttle.backend local with more than one gateway pod multiplies every limit by the pod count: use Redis, or force it with throttle.allowPerProcessLimits: true" }}
{{- end }}
backend: {{ $backend }}
replicas: {{ .Values.throttle.replicas | default (include "scim-gateway.maxPods" .) | int }}
{{- if eq $backend "redis" }}
redis:
  url: env:SCIM_GATEWAY_REDIS_URL
  timeout: {{ .Values.throttle.redisTimeout }}
  key_prefix: {{ .Values.throttle.redisKeyPrefix | default (include "scim-gateway.fullname" .) | quote }}
{{- end }}
{{- with .Values.throttle.failedAuth }}
failed_auth:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "scim-gateway.directory.claimName" -}}
{{- printf "%s-directory" (include "scim-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* postgresql | sqlite | "" (no directory). */}}
{{- define "scim-gateway.directoryMode" -}}
{{- if .Values.directory.enabled }}{{ .Values.directory.backend }}{{ end }}
{{- end }}

{{/*
The gateway config's `directory:` block. Refuses SQLite when more than one pod can run (each would
keep its own file, or share one over a volume SQLite cannot lock), and a directory without its keys
or its database URL.
*/}}
{{- define "scim-gateway.directory" -}}
{{- $directory := .Values.directory }}
{{- $mode := include "scim-gateway.directoryMode" . }}
{{- if not $directory.encryption.existingSecret }}
{{- fail "directory.enabled needs directory.encryption.existingSecret: a Secret holding the directory's keys (scim-gateway db generate-key), one per key of directory.encryption.keys and indexKey" }}
{{- end }}
{{- if eq $mode "sqlite" }}
{{- $pods := int (include "scim-gateway.maxPods" .) }}
{{- if gt $pods 1 }}
{{- $why := ternary (printf "autoscaling.maxReplicas is %d" $pods) (printf "replicaCount is %d" $pods) .Values.autoscaling.enabled }}
{{- fail (printf "directory.backend sqlite keeps the directory in one pod's file, but %s: use directory.backend postgresql for more than one pod (or run one: replicaCount 1, no autoscaling)" $why) }}
{{- end }}
url: {{ printf "%s/directory.db" (trimSuffix "/" $directory.sqlite.mountPath) }}
{{- else }}
{{- if not $directory.postgresql.existingSecret }}
{{- fail "directory.backend postgresql needs directory.postgresql.existingSecret: a Secret whose key holds postgresql://user:password@host:5432/database" }}
{{- end }}
url: env:SCIM_GATEWAY_DIRECTORY_URL
{{- end }}
{{- $keys := trimSuffix "/" $directory.encryption.mountPath }}
encryption:
  keys:
    {{- range $directory.encryption.keys }}
    - {{ printf "file:%s/%s" $keys . }}
    {{- end }}
  index_key: {{ printf "file:%s/%s" $keys $directory.encryption.indexKey }}
migrate_on_start: {{ $directory.migrateOnStart }}
pool_size: {{ $directory.poolSize }}
pool_timeout: {{ $directory.poolTimeout }}
{{- end }}

{{/* Environment variable names the pod defines (what `env:NAME` and `${NAME}` may refer to). */}}
{{- define "scim-gateway.envNames" -}}
{{- $names := list }}
{{- range .Values.secretEnv }}{{ $names = append $names .name }}{{ end }}
{{- range .Values.extraEnv }}{{ $names = append $names .name }}{{ end }}
{{- if include "scim-gateway.redisMode" . }}{{ $names = append $names "SCIM_GATEWAY_REDIS_URL" }}{{ end }}
{{- if eq (include "scim-gateway.directoryMode" .) "postgresql" }}{{ $names = append $names "SCIM_GATEWAY_DIRECTORY_URL" }}{{ end }}
{{- toJson $names }}
{{- end }}

{{/*
The gateway's config.yaml. Fails at render time on what would only fail at pod start-up:
env references to variables the pod does not define, file references outside the mounted
Secret, literal secrets switched on, a hand-written throttle block.
*/}}
{{- define "scim-gateway.gatewayConfig" -}}
{{- $config := deepCopy (.Values.config | default dict) }}
{{- if hasKey $config "throttle" }}
{{- fail "config.throttle is rendered by the chart: set the top-level `throttle` and `redis` values instead" }}
{{- end }}
{{- if hasKey $config "directory" }}
{{- fail "config.directory is rendered by the chart: set the top-level `directory` values instead" }}
{{- end }}
{{- if $config.allow_literal_secrets }}
{{- fail "config.allow_literal_secrets would put credentials into a ConfigMap: use existingSecret and file:/env: references" }}
{{- end }}
{{- if not $config.tenants }}
{{- $placeholder := dict "tokens" (list (dict "name" "placeholder" "sha256" (repeat 64 "0"))) "apps" dict }}
{{- $_ := set $config "tenants" (dict "placeholder" $placeholder) }}
{{- end }}
{{- /* The directory first: SQLite with several pods is the first thing to fix. */}}
{{- if .Values.directory.enabled }}
{{- $_ := set $config "directory" (include "scim-gateway.directory" . | fromYaml) }}
{{- end }}
{{- $_ := set $config "throttle" (include "scim-gateway.throttle" . | fromYaml) }}
{{- /* metrics_port: null in values removes the key; written out, so the gateway's own default (9464) does not
     open a port the chart neither exposes nor lets Prometheus reach. */}}
{{- $observability := get $config "observability" | default dict }}
{{- if not (hasKey $observability "metrics_port") }}{{ $_ := set $observability "metrics_port" nil }}{{ end }}
{{- $_ := set $config "observability" $observability }}
{{- $json := toJson $config }}
{{- $defined := include "scim-gateway.envNames" . | fromJsonArray }}
{{- range regexFindAll "env:[A-Za-z_][A-Za-z0-9_]*" $json -1 }}
{{- $name := trimPrefix "env:" . }}
{{- if not (has $name $defined) }}
{{- fail (printf "config refers to %s, but the pod defines no %s: add it to secretEnv (a key of existingSecret) or extraEnv" . $name) }}
{{- end }}
{{- end }}
{{- range regexFindAll "\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}" $json -1 }}
{{- $name := trimSuffix "}" (trimPrefix "${" .) }}
{{- if not (has $name $defined) }}
{{- fail (printf "config interpolates %s, but the pod defines no %s: add it to extraEnv (or give a default: ${%s:-value})" . $name $name) }}
{{- end }}
{{- end }}
{{- $mounts := list }}
{{- if .Values.existingSecret }}{{ $mounts = append $mounts (printf "%s/" (trimSuffix "/" .Values.secretMountPath)) }}{{ end }}
{{- range .Values.extraVolumeMounts }}{{ $mounts = append $mounts (printf "%s/" (trimSuffix "/" .mountPath)) }}{{ end }}
{{- if .Values.directory.enabled }}{{ $mounts = append $mounts (printf "%s/" (trimSuffix "/" .Values.directory.encryption.mountPath)) }}{{ end }}
{{- range regexFindAll "file:/[^\"]+" $json -1 }}
{{- $path := trimPrefix "file:" . }}
{{- $inside := false }}
{{- range $mounts }}{{ if hasPrefix . $path }}{{ $inside = true }}{{ end }}{{ end }}
{{- if not $inside }}
{{- fail (printf "config refers to %s, which is not in a mounted volume: set existingSecret (mounted at %s) or add an extraVolumeMounts entry" . $.Values.secretMountPath) }}
{{- end }}
{{- end }}
{{- with (dig "audit" "file" "" (get $config "observability" | default dict)) }}
{{- $writable := list "/tmp/" }}
{{- range $.Values.extraVolumeMounts }}{{ if not .readOnly }}{{ $writable = append $writable (printf "%s/" (trimSuffix "/" .mountPath)) }}{{ end }}{{ end }}
{{- $inside := false }}
{{- range $writable }}{{ if hasPrefix . $.Values.config.observability.audit.file }}{{ $inside = true }}{{ end }}{{ end }}
{{- if not $inside }}
{{- fail (printf "config.observability.audit.file %s is on the read-only root filesystem: put it under /tmp/ or a writable extraVolumeMounts path (or leave it unset: audit goes to stdout)" .) }}
{{- end }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{- define "scim-gateway.metricsPort" -}}
{{- with .Values.config.observability }}{{ with .metrics_port }}{{ . }}{{ end }}{{ end }}
{{- end }}
