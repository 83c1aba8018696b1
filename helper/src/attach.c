/* Why an attach failed, in plain words, from the section, the errno and what this
 * kernel exposes (tracefs, kprobe PMU, lockdown, LSM list). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "helper.h"

static const char *tracefs_root(void)
{
	if (access("/sys/kernel/tracing/events", F_OK) == 0)
		return "/sys/kernel/tracing";
	if (access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return "/sys/kernel/debug/tracing";
	return NULL;
}

static bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* "tp/sched/sched_process_exec" → "sched/sched_process_exec"; "kprobe/do_nanosleep" → "do_nanosleep". */
void attach__target(const char *section, char *out, size_t n)
{
	const char *slash = section ? strchr(section, '/') : NULL;
	snprintf(out, n, "%s", slash ? slash + 1 : "");
}

static bool kprobes_available(void)
{
	const char *root = tracefs_root();
	char path[256];
	if (access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0)
		return true;
	if (!root)
		return false;
	snprintf(path, sizeof(path), "%s/kprobe_events", root);
	return access(path, F_OK) == 0;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 128 || lb > 128)
		return (size_t)-1;
	size_t row[129];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Up to three directory entries of `dir` closest to `want`, comma-separated, prefixed. */
static void closest_names(const char *dir, const char *want, const char *prefix, char *out, size_t n)
{
	struct { char name[128]; size_t d; } best[3];
	int have = 0;
	out[0] = '\0';
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || e->d_type == DT_REG)
			continue;
		size_t dist = edit_distance(e->d_name, want);
		/* a name containing the wanted one (or the reverse) is a strong match */
		if (strstr(e->d_name, want) || strstr(want, e->d_name))
			dist = dist / 4;
		int slot;
		if (have < 3)
			slot = have++;
		else if (dist < best[2].d)
			slot = 2;
		else
			continue;
		snprintf(best[slot].name, sizeof(best[slot].name), "%s", e->d_name);
		best[slot].d = dist;
		for (int k = slot; k > 0 && best[k].d < best[k - 1].d; k--) {
			typeof(best[0]) t = best[k];
			best[k] = best[k - 1];
			best[k - 1] = t;
		}
	}
	closedir(d);
	size_t off = 0;
	for (int k = 0; k < have && off < n; k++)
		off += (size_t)snprintf(out + off, n - off, "%s%s%s", k ? ", " : "", prefix, best[k].name);
}

static void read_first_line(const char *path, char *out, size_t n)
{
	out[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(out, (int)n, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

static void explain_tracepoint(const char *target, int err, char *reason, size_t n)
{
	const char *root = tracefs_root();
	char cat[128] = "", name[128] = "", dir[512], near[512];
	const char *slash = strchr(target, '/');
	if (!slash) {
		snprintf(reason, n, "tracepoint section needs 'category/name', got '%s'", target);
		return;
	}
	snprintf(cat, sizeof(cat), "%.*s", (int)(slash - target), target);
	snprintf(name, sizeof(name), "%s", slash + 1);
	if (!root) {
		snprintf(reason, n, "tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing), so tracepoint '%s' cannot be found", target);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/events/%s", root, cat);
	if (access(dir, F_OK) != 0) {
		snprintf(dir, sizeof(dir), "%s/events", root);
		closest_names(dir, cat, "", near, sizeof(near));
		snprintf(reason, n, "tracepoint category '%s' does not exist in this kernel%s%s", cat,
			 near[0] ? "; closest categories: " : "", near);
		return;
	}
	if (err == ENOENT || err == EINVAL) {
		closest_names(dir, name, "", near, sizeof(near));
		size_t off = (size_t)snprintf(reason, n, "tracepoint '%s' does not exist in this kernel", target);
		if (near[0] && off < n) {
			/* prefix every suggestion with its category */
			char with_cat[1024] = "";
			size_t w = 0;
			for (char *tok = strtok(near, ", "); tok && w < sizeof(with_cat); tok = strtok(NULL, ", "))
				w += (size_t)snprintf(with_cat + w, sizeof(with_cat) - w, "%s%s/%s", w ? ", " : "", cat, tok);
			snprintf(reason + off, n - off, "; closest: %s", with_cat);
		}
		return;
	}
	snprintf(reason, n, "attaching to tracepoint '%s' failed: %s", target, strerror(err));
}

static void explain_trampoline(const char *kind, const char *target, int err, bool lsm, char *reason, size_t n)
{
	char lockdown[256], lsms[512];
	read_first_line("/sys/kernel/security/lockdown", lockdown, sizeof(lockdown));
	read_first_line("/sys/kernel/security/lsm", lsms, sizeof(lsms));
	const char *mode = strchr(lockdown, '[');
	char current[32] = "";
	if (mode)
		sscanf(mode, "[%31[^]]", current);
	if (access("/sys/kernel/btf/vmlinux", F_OK) != 0) {
		snprintf(reason, n, "%s needs kernel BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF), which this kernel does not have", kind);
		return;
	}
	if (lsm && lsms[0] && !strstr(lsms, "bpf")) {
		snprintf(reason, n, "the BPF LSM is not enabled in this kernel (active LSMs: %s); boot with lsm=%s,bpf", lsms, lsms);
		return;
	}
	if (err == EPERM || err == EACCES) {
		if (current[0] && strcmp(current, "none") != 0)
			snprintf(reason, n, "%s attach is not permitted: the kernel is in lockdown mode '%s'", kind, current);
		else
			snprintf(reason, n,
				 "%s attach is not permitted on this kernel (EPERM for '%s'; lockdown is %s and kernel BTF is present, so the kernel most likely lacks BPF trampoline support, e.g. CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS); use a tracepoint, raw_tp or tp_btf program instead",
				 kind, target, current[0] ? current : "not active");
		return;
	}
	if (err == ENOTSUP || err == EOPNOTSUPP || err == 524 /* ENOTSUPP */) {
		snprintf(reason, n, "%s is not supported by this kernel for '%s'", kind, target);
		return;
	}
	snprintf(reason, n, "%s attach to '%s' failed: %s", kind, target, strerror(err));
}

void attach__explain(const struct bpf_program *prog, int err, char *reason, size_t n)
{
	const char *section = bpf_program__section_name(prog);
	char target[256];
	attach__target(section, target, sizeof(target));
	enum bpf_prog_type type = bpf_program__type(prog);

	if (starts_with(section, "kprobe") || starts_with(section, "kretprobe") || starts_with(section, "ksyscall") ||
	    starts_with(section, "kretsyscall")) {
		if (!kprobes_available())
			snprintf(reason, n, "kprobes are not available in this kernel (CONFIG_KPROBE_EVENTS: no kprobe PMU and no kprobe_events); use a tracepoint or raw_tp program instead");
		else if (err == ENOENT || err == EINVAL)
			snprintf(reason, n, "kernel function '%s' does not exist or cannot be probed (see available_filter_functions)", target);
		else
			snprintf(reason, n, "kprobe on '%s' failed: %s", target, strerror(err));
		return;
	}
	if (starts_with(section, "uprobe") || starts_with(section, "uretprobe")) {
		char path[256] = "";
		sscanf(target, "%255[^:]", path);
		if (path[0] && access(path, F_OK) != 0)
			snprintf(reason, n, "binary '%s' does not exist on the target", path);
		else if (!path[0])
			snprintf(reason, n, "uprobe section needs 'binary:function' (e.g. uprobe//bin/bash:readline), got '%s'", target);
		else
			snprintf(reason, n, "uprobe '%s' failed: %s (is the function exported in '%s'?)", target, strerror(err), path);
		return;
	}
	if (starts_with(section, "tp/") || starts_with(section, "tracepoint/")) {
		explain_tracepoint(target, err, reason, n);
		return;
	}
	if (type == BPF_PROG_TYPE_TRACING && (starts_with(section, "fentry") || starts_with(section, "fexit") ||
					      starts_with(section, "fmod_ret"))) {
		char kind[32];
		snprintf(kind, sizeof(kind), "%.*s", (int)strcspn(section, "/."), section);
		explain_trampoline(kind, target, err, false, reason, n);
		return;
	}
	if (type == BPF_PROG_TYPE_LSM) {
		explain_trampoline("lsm", target, err, true, reason, n);
		return;
	}
	if (starts_with(section, "raw_tp") || starts_with(section, "raw_tracepoint") || starts_with(section, "tp_btf")) {
		if (err == ENOENT || err == ESRCH)
			snprintf(reason, n, "raw tracepoint '%s' does not exist in this kernel", target);
		else
			snprintf(reason, n, "raw tracepoint '%s' failed: %s", target, strerror(err));
		return;
	}
	if (err == EOPNOTSUPP || err == ESRCH) {
		snprintf(reason, n, "libbpf cannot attach '%s' programs by itself (this program type needs a target such as a network interface or cgroup)", section);
		return;
	}
	snprintf(reason, n, "attaching '%s' failed: %s", section, strerror(err));
}
