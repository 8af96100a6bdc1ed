/**
 * Calico's names and fixed values for the devices it makes, each from the source that sets it:
 *
 * - the host side of a pod's link: `cali` + the first 11 hex digits of SHA-1 of `<namespace>.<pod>`
 *   (libcalico-go lib/backend/k8s/conversion/workload_endpoint_default.go `VethNameForWorkload`, with
 *   FELIX_INTERFACEPREFIX unset), MAC `ee:ee:ee:ee:ee:ee` (cni-plugin pkg/dataplane/linux
 *   `hostSideMAC`), with proxy ARP on (`net.ipv4.conf.<cali>.proxy_arp=1`, `neigh.<cali>.proxy_delay=0`);
 * - the pod's gateway: `169.254.1.1`, a link-scope route on eth0 and `default via 169.254.1.1`
 *   (cni-plugin dataplane_linux.go); the pod's address is a /32;
 * - the tunnels (felix dataplane/linux/dataplanedefs): `tunl0` (IP-in-IP) and `vxlan.calico` with VNI
 *   4096 and UDP port 4789 (felix config_params.go `VXLANVNI`, `VXLANPort`); their MTU is the host's
 *   less 20 (IP-in-IP) or 50 (VXLAN) bytes (felix int_dataplane.go `ipipMTUOverhead`,
 *   `vxlanMTUOverhead`), and the pods' MTU follows it (Calico's manifest sets veth_mtu "0": auto).
 */
import { sha1 } from "@noble/hashes/legacy";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils";
import type { IPv4 } from "../../net/ipv4.ts";

/** The pods' gateway address (link-local; answered by proxy ARP on the host side). */
export const CALICO_GATEWAY: IPv4 = (169 * 2 ** 24 + 254 * 2 ** 16 + 1 * 2 ** 8 + 1) >>> 0;
/** The host side's MAC on every `cali…` link. */
export const CALICO_HOST_MAC = "ee:ee:ee:ee:ee:ee";
export const IPIP_DEVICE = "tunl0";
export const VXLAN_DEVICE = "vxlan.calico";
export const VXLAN_VNI = 4096;
export const VXLAN_PORT = 4789;
/** The underlay's MTU podnet assumes (eth0). */
export const HOST_MTU = 1500;
export const IPIP_OVERHEAD = 20;
export const VXLAN_OVERHEAD = 50;

/** The name Calico gives the host side of a pod's veth: `cali` + 11 hex digits of SHA-1("ns.pod"). */
export function caliVethName(namespace: string, pod: string): string {
  return `cali${bytesToHex(sha1(utf8ToBytes(`${namespace}.${pod}`))).slice(0, 11)}`;
}
