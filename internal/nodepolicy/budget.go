/*
Copyright 2026 The Plexus Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package nodepolicy

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// MaxUnavailable returns how many of total nodes may be disrupted at once. nil means 1. A
// percentage is rounded up and the result is never below 1, so a small pool never stalls (the
// sriov-network-operator rounds down and stalls at 0). The result is capped at total when total
// is positive.
func MaxUnavailable(v *intstr.IntOrString, total int) (int, error) {
	n := 1
	if v != nil {
		switch v.Type {
		case intstr.Int:
			n = int(v.IntVal)
		case intstr.String:
			s, ok := strings.CutSuffix(v.StrVal, "%")
			if !ok {
				return 0, fmt.Errorf("maxUnavailable %q: not an integer or a percentage", v.StrVal)
			}
			pct, err := strconv.Atoi(s)
			if err != nil || pct < 0 || pct > 100 {
				return 0, fmt.Errorf("maxUnavailable %q: invalid percentage", v.StrVal)
			}
			n = (pct*total + 99) / 100 // round up
		}
	}
	if total > 0 && n > total {
		n = total
	}
	return max(n, 1), nil
}
