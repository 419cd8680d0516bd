package kinds

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Kinds whose protobuf bodies the apiserver decodes (the schema generator walks these).
var All = []runtime.Object{
	&corev1.Pod{}, &corev1.PodTemplate{}, &corev1.ReplicationController{}, &corev1.Node{}, &corev1.Service{},
	&corev1.Endpoints{}, &corev1.Event{}, &corev1.ConfigMap{}, &corev1.Secret{}, &corev1.Namespace{},
	&corev1.ServiceAccount{}, &corev1.PersistentVolume{}, &corev1.PersistentVolumeClaim{}, &corev1.LimitRange{},
	&corev1.ResourceQuota{}, &corev1.Binding{},
	&appsv1.Deployment{}, &appsv1.DaemonSet{}, &appsv1.StatefulSet{}, &appsv1.ReplicaSet{}, &appsv1.ControllerRevision{},
	&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}, &rbacv1.Role{}, &rbacv1.RoleBinding{},
	&coordinationv1.Lease{}, &policyv1.PodDisruptionBudget{}, &policyv1.Eviction{}, &policyv1beta1.Eviction{},
	&batchv1.Job{}, &batchv1.CronJob{}, &eventsv1.Event{}, &discoveryv1.EndpointSlice{},
	&autoscalingv1.Scale{}, &networkingv1.NetworkPolicy{}, &certificatesv1.CertificateSigningRequest{},
	&authenticationv1.TokenRequest{}, &authenticationv1.TokenReview{},
	&authorizationv1.SelfSubjectAccessReview{}, &authorizationv1.SubjectAccessReview{},
	&metav1.DeleteOptions{},
	&storagev1.StorageClass{}, &storagev1.CSIDriver{}, &storagev1.CSINode{}, &storagev1.VolumeAttachment{},
	&schedulingv1.PriorityClass{}, &networkingv1.Ingress{}, &networkingv1.IngressClass{},
	&autoscalingv2.HorizontalPodAutoscaler{}, &nodev1.RuntimeClass{},
	&admissionregistrationv1.ValidatingWebhookConfiguration{}, &admissionregistrationv1.MutatingWebhookConfiguration{},
	&admissionregistrationv1.ValidatingAdmissionPolicy{}, &admissionregistrationv1.ValidatingAdmissionPolicyBinding{},
}
