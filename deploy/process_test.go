package deploy_test

import (
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/contrail-atm/contrail/processors/flight"
)

// The processors (`contrail process`) need what the generic checks cannot
// see: every running instance has its own --instance-id (it is part of the
// transactional ids, and two instances sharing one fence each other), and
// the STAR reference data named by --stars is mounted and readable.

// TestComposeProcessReplicas: compose runs the processors as replicas of one
// service, which share their environment, so none of them may be given an
// instance id; each takes the default (host name, i.e. the container id, and
// process id).
func TestComposeProcessReplicas(t *testing.T) {
	cf := loadComposeFile(t)
	invs, problems := checkComposeServices(cliM(), cf)
	report(t, problems)
	n := 0
	for _, name := range sortedKeys(invs) {
		inv := invs[name]
		if inv.cmd.path[0] != "process" && inv.cmd.path[0] != "run" {
			continue
		}
		n++
		replicas := 1
		if r := get(cf.services()[name], "deploy", "replicas"); r != nil {
			if _, err := fmt.Sscan(fmt.Sprint(r), &replicas); err != nil {
				t.Errorf("compose service %s: deploy.replicas %v: %v", name, r, err)
			}
		}
		if inv.cmd.path[0] == "process" && replicas < 2 {
			t.Errorf("compose service %s: %d replica of `contrail process`; run two, so a failure moves partitions instead of stopping the steps", name, replicas)
		}
		if src := inv.source["instance-id"]; replicas > 1 && src != "default" {
			t.Errorf("compose service %s: %d replicas share --instance-id from %s (%q): they would fence each other's transactions; leave it unset", name, replicas, src, inv.effective["instance-id"])
		}
	}
	if n == 0 {
		t.Error("compose.yaml runs no `contrail process`")
	}
}

// TestKubernetesProcessInstanceID: the processors' Deployment gives each
// pod its own, stable instance id, the pod name, and its --stars file is in
// the mounted ConfigMap and loads.
func TestKubernetesProcessInstanceID(t *testing.T) {
	_, docs, cms := baseK8s(t)
	n := 0
	for _, d := range docs {
		if getStr(d, "kind") != "Deployment" {
			continue
		}
		spec := getMap(d, "spec", "template", "spec")
		for _, c := range getList(spec, "containers") {
			args := getList(c, "args")
			if len(args) == 0 || fmt.Sprint(args[0]) != "process" {
				continue
			}
			n++
			where := kindName(d) + " container " + getStr(c, "name")
			fromPod := false
			var config string
			for _, e := range getList(c, "env") {
				switch getStr(e, "name") {
				case "CONTRAIL_INSTANCE_ID":
					fromPod = getStr(e, "valueFrom", "fieldRef", "fieldPath") == "metadata.name"
				case "CONTRAIL_CONFIG":
					config = getStr(e, "value")
				}
			}
			if !fromPod {
				t.Errorf("%s: CONTRAIL_INSTANCE_ID is not the pod name (valueFrom.fieldRef.fieldPath: metadata.name)", where)
			}
			for _, a := range args {
				if strings.HasPrefix(fmt.Sprint(a), "--instance-id") {
					t.Errorf("%s: --instance-id in args is shared by every replica", where)
				}
			}

			// --stars: a file of the mounted contrail-config ConfigMap.
			mounts := map[string]string{} // mount path -> ConfigMap
			volumes := map[string]string{}
			for _, v := range getList(spec, "volumes") {
				volumes[getStr(v, "name")] = getStr(v, "configMap", "name")
			}
			for _, vm := range getList(c, "volumeMounts") {
				if cm := volumes[getStr(vm, "name")]; cm != "" && getStr(vm, "subPath") == "" {
					mounts[strings.TrimSuffix(getStr(vm, "mountPath"), "/")] = cm
				}
			}
			cm, ok := mounts[path.Dir(config)]
			if !ok {
				t.Errorf("%s: settings file %s is not in a mounted ConfigMap", where, config)
				continue
			}
			kv, err := settingsFile(cms[cm][path.Base(config)])
			if err != nil {
				t.Fatalf("%s: %s: %v", where, config, err)
			}
			stars := ""
			for _, s := range kv {
				if s[0] == "stars" {
					stars = s[1]
				}
			}
			if stars == "" {
				continue // no reference data: allowed, the rule then checks presence only
			}
			scm, ok := mounts[path.Dir(stars)]
			content, has := cms[scm][path.Base(stars)]
			if !ok || !has {
				t.Errorf("%s: --stars %s is not a key of a mounted ConfigMap", where, stars)
				continue
			}
			if _, err := flight.LoadStars(strings.NewReader(content)); err != nil {
				t.Errorf("%s: --stars %s: %v", where, stars, err)
			}
		}
	}
	if n != 1 {
		t.Errorf("k8s base: %d containers run `contrail process`, want 1", n)
	}
}
