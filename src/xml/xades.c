/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/xmlsave.h>

#include "common/b64.h"
#include "xml/xades.h"

#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"
#define XADES_NS "http://uri.etsi.org/01903/v1.3.2#"
#define MORE "http://www.w3.org/2001/04/xmldsig-more#"
#define C14N_INCL "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
#define C14N_EXCL "http://www.w3.org/2001/10/xml-exc-c14n#"
#define ENVELOPED DSIG_NS "enveloped-signature"
#define SIGNED_PROPS_TYPE "http://uri.etsi.org/01903#SignedProperties"

#define BAD_CAST_S(s) ((const xmlChar *)(s))

static const char *digest_uri(const EVP_MD *md)
{
	switch (EVP_MD_get_type(md)) {
	case NID_sha384:
		return MORE "sha384";
	case NID_sha512:
		return "http://www.w3.org/2001/04/xmlenc#sha512";
	default:
		return "http://www.w3.org/2001/04/xmlenc#sha256";
	}
}

static const char *c14n_uri(int inclusive)
{
	return inclusive ? C14N_INCL : C14N_EXCL;
}

/* The node set of a subtree: node (an attribute or namespace: its element) in it. */
static int in_subtree(void *top, xmlNodePtr node, xmlNodePtr parent)
{
	xmlNodePtr n = node;

	if (node && (node->type == XML_NAMESPACE_DECL || node->type == XML_ATTRIBUTE_NODE))
		n = parent;
	for (; n; n = n->parent)
		if (n == top)
			return 1;
	return 0;
}

static int digest_write(void *ctx, const char *buf, int len)
{
	return EVP_DigestUpdate(ctx, buf, (size_t)len) ? len : -1;
}

/* The md digest of the canonical form of top's subtree (NULL: the whole document). */
static int c14n_digest(struct xades *x, xmlNodePtr top, const EVP_MD *md, unsigned char *out,
		       unsigned int *len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	xmlOutputBufferPtr buf;
	int ret = -1, n;

	if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL))
		goto out;
	buf = xmlOutputBufferCreateIO(digest_write, NULL, ctx, NULL);
	if (!buf)
		goto out;
	n = xmlC14NExecute(x->doc, top ? in_subtree : NULL, top, x->inclusive ? XML_C14N_1_0 :
			   XML_C14N_EXCLUSIVE_1_0, NULL, 0, buf);
	if (xmlOutputBufferClose(buf) < 0 || n < 0)
		goto out;
	if (EVP_DigestFinal_ex(ctx, out, len))
		ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

static xmlNodePtr add(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
	return parent ? xmlNewTextChild(parent, ns, BAD_CAST_S(name), BAD_CAST_S(text)) : NULL;
}

static xmlNodePtr add_alg(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *uri)
{
	xmlNodePtr n = add(parent, ns, name, NULL);

	if (n && !xmlNewProp(n, BAD_CAST_S("Algorithm"), BAD_CAST_S(uri)))
		return NULL;
	return n;
}

/* Base64 text of len bytes as the content of a new child. */
static xmlNodePtr add_b64(xmlNodePtr parent, xmlNsPtr ns, const char *name,
			  const unsigned char *der, size_t len)
{
	char *b64 = kyso_b64_encode(der, len);
	xmlNodePtr n = b64 ? add(parent, ns, name, b64) : NULL;

	free(b64);
	return n;
}

static int add_cert(xmlNodePtr x509data, xmlNsPtr ds, X509 *cert)
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der), ret = -1;

	if (n > 0 && add_b64(x509data, ds, "X509Certificate", der, (size_t)n))
		ret = 0;
	OPENSSL_free(der);
	return ret;
}

/* A ds:Reference with its transforms (enveloped: the enveloped-signature
 * transform first) and an empty DigestValue, returned. */
static xmlNodePtr add_reference(struct xades *x, xmlNsPtr ds, const char *uri,
				const char *type, const char *id, int enveloped)
{
	xmlNodePtr r = add(x->signed_info, ds, "Reference", NULL), t;

	if (!r || (id && !xmlNewProp(r, BAD_CAST_S("Id"), BAD_CAST_S(id))) ||
	    (type && !xmlNewProp(r, BAD_CAST_S("Type"), BAD_CAST_S(type))) ||
	    !xmlNewProp(r, BAD_CAST_S("URI"), BAD_CAST_S(uri)))
		return NULL;
	t = add(r, ds, "Transforms", NULL);
	if (enveloped && !add_alg(t, ds, "Transform", ENVELOPED))
		return NULL;
	if (!add_alg(t, ds, "Transform", c14n_uri(x->inclusive)) ||
	    !add_alg(r, ds, "DigestMethod", digest_uri(x->md)))
		return NULL;
	return r;
}

static int set_digest(xmlNodePtr ref, xmlNsPtr ds, const unsigned char *md, unsigned int len)
{
	return add_b64(ref, ds, "DigestValue", md, len) ? 0 : -1;
}

/* xades:SignedProperties: SigningTime, SigningCertificateV2 and the data
 * object's format, returned. */
static xmlNodePtr add_signed_props(struct xades *x, xmlNsPtr ds, xmlNsPtr xa,
				   const struct xades_opts *o, const char *id, const char *ref_id)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char when[32], target[80];
	xmlNodePtr sp, ssp, c, f;
	struct tm tm;

	snprintf(target, sizeof(target), "#%s", ref_id);
	sp = add(x->qualifying, xa, "SignedProperties", NULL);
	if (!sp || !xmlNewProp(sp, BAD_CAST_S("Id"), BAD_CAST_S(id)))
		return NULL;
	ssp = add(sp, xa, "SignedSignatureProperties", NULL);
	gmtime_r(&o->when, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!add(ssp, xa, "SigningTime", when) || !X509_digest(o->signer, x->md, md, &md_len))
		return NULL;
	c = add(add(ssp, xa, "SigningCertificateV2", NULL), xa, "Cert", NULL);
	c = add(c, xa, "CertDigest", NULL);
	if (!add_alg(c, ds, "DigestMethod", digest_uri(x->md)) ||
	    !add_b64(c, ds, "DigestValue", md, md_len))
		return NULL;
	f = add(add(sp, xa, "SignedDataObjectProperties", NULL), xa, "DataObjectFormat", NULL);
	if (!f || !xmlNewProp(f, BAD_CAST_S("ObjectReference"), BAD_CAST_S(target)) ||
	    !add(f, xa, "MimeType", "text/xml"))
		return NULL;
	return sp;
}

static int build(struct xades *x, const struct xades_opts *o)
{
	unsigned char md[EVP_MAX_MD_SIZE], rnd[8];
	char hex[17], sig_id[40], props_id[40], ref_id[40], target[48];
	xmlNodePtr root = xmlDocGetRootElement(x->doc), doc_ref, props_ref, ki, sp;
	EVP_PKEY *key = X509_get0_pubkey(o->signer);
	unsigned int md_len = 0;
	xmlNsPtr ds, xa;
	const char *alg;
	int i;

	if (!key || RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	for (i = 0; i < 8; i++)
		sprintf(hex + 2 * i, "%02x", rnd[i]);
	snprintf(sig_id, sizeof(sig_id), "sig-%s", hex);
	snprintf(props_id, sizeof(props_id), "xades-%s", hex);
	snprintf(ref_id, sizeof(ref_id), "ref-%s", hex);
	if (EVP_PKEY_base_id(key) == EVP_PKEY_EC) {
		x->ec_bytes = (EVP_PKEY_get_bits(key) + 7) / 8;
		alg = EVP_MD_get_type(x->md) == NID_sha512 ? MORE "ecdsa-sha512" :
		      EVP_MD_get_type(x->md) == NID_sha384 ? MORE "ecdsa-sha384" :
		      MORE "ecdsa-sha256";
	} else if (EVP_PKEY_base_id(key) == EVP_PKEY_RSA) {
		alg = EVP_MD_get_type(x->md) == NID_sha512 ? MORE "rsa-sha512" :
		      EVP_MD_get_type(x->md) == NID_sha384 ? MORE "rsa-sha384" :
		      MORE "rsa-sha256";
	} else {
		return -1;
	}
	/* the document as it is now is what the enveloped reference sees */
	if (c14n_digest(x, NULL, x->md, md, &md_len))
		return -1;
	x->signature = xmlNewChild(root, NULL, BAD_CAST_S("Signature"), NULL);
	ds = x->signature ? xmlNewNs(x->signature, BAD_CAST_S(DSIG_NS), BAD_CAST_S("ds")) : NULL;
	if (!ds)
		return -1;
	xmlSetNs(x->signature, ds);
	if (!xmlNewProp(x->signature, BAD_CAST_S("Id"), BAD_CAST_S(sig_id)))
		return -1;
	x->signed_info = add(x->signature, ds, "SignedInfo", NULL);
	if (!add_alg(x->signed_info, ds, "CanonicalizationMethod", c14n_uri(x->inclusive)) ||
	    !add_alg(x->signed_info, ds, "SignatureMethod", alg))
		return -1;
	doc_ref = add_reference(x, ds, "", NULL, ref_id, 1);
	snprintf(target, sizeof(target), "#%s", props_id);
	props_ref = add_reference(x, ds, target, SIGNED_PROPS_TYPE, NULL, 0);
	if (!doc_ref || !props_ref || set_digest(doc_ref, ds, md, md_len))
		return -1;
	x->signature_value = add(x->signature, ds, "SignatureValue", NULL);
	snprintf(target, sizeof(target), "value-%s", hex);
	if (!x->signature_value ||
	    !xmlNewProp(x->signature_value, BAD_CAST_S("Id"), BAD_CAST_S(target)))
		return -1;
	ki = add(add(x->signature, ds, "KeyInfo", NULL), ds, "X509Data", NULL);
	if (!ki || add_cert(ki, ds, o->signer))
		return -1;
	for (i = 0; i < sk_X509_num(o->chain); i++)
		if (add_cert(ki, ds, sk_X509_value(o->chain, i)))
			return -1;
	x->qualifying = add(add(x->signature, ds, "Object", NULL), NULL, "QualifyingProperties",
			    NULL);
	xa = x->qualifying ? xmlNewNs(x->qualifying, BAD_CAST_S(XADES_NS),
				      BAD_CAST_S("xades")) : NULL;
	if (!xa)
		return -1;
	xmlSetNs(x->qualifying, xa);
	snprintf(target, sizeof(target), "#%s", sig_id);
	if (!xmlNewProp(x->qualifying, BAD_CAST_S("Target"), BAD_CAST_S(target)))
		return -1;
	sp = add_signed_props(x, ds, xa, o, props_id, ref_id);
	if (!sp || c14n_digest(x, sp, x->md, md, &md_len) || set_digest(props_ref, ds, md, md_len))
		return -1;
	return 0;
}

int xades_prepare(struct xades *x, const char *path, const struct xades_opts *o, char *err,
		  size_t errlen)
{
	const xmlError *e;

	memset(x, 0, sizeof(*x));
	x->md = o->md;
	x->inclusive = o->inclusive;
	x->doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
	if (!x->doc) {
		e = xmlGetLastError();
		snprintf(err, errlen, "%s is not well-formed XML: %s", path,
			 e && e->message ? e->message : "?");
		if (errlen && strlen(err) && err[strlen(err) - 1] == '\n')
			err[strlen(err) - 1] = '\0';
		return -1;
	}
	if (x->doc->intSubset || x->doc->extSubset) {
		snprintf(err, errlen, "%s has a document type declaration: its entities and "
			 "default attributes would change what is signed", path);
		return -1;
	}
	if (!xmlDocGetRootElement(x->doc)) {
		snprintf(err, errlen, "%s has no root element", path);
		return -1;
	}
	if (build(x, o)) {
		snprintf(err, errlen, "the signature cannot be built");
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int xades_signed_info_digest(struct xades *x, unsigned char *out, unsigned int *len)
{
	return c14n_digest(x, x->signed_info, x->md, out, len);
}

int xades_put_signature(struct xades *x, const unsigned char *sig, size_t len, char *err,
			size_t errlen)
{
	const unsigned char *p = sig;
	unsigned char rs[2 * 66];
	ECDSA_SIG *es = NULL;
	char *b64 = NULL;
	int ret = -1;

	if (x->ec_bytes) {
		es = d2i_ECDSA_SIG(NULL, &p, (long)len);
		if (!es || (size_t)x->ec_bytes > sizeof(rs) / 2 ||
		    BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, x->ec_bytes) < 0 ||
		    BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + x->ec_bytes, x->ec_bytes) < 0) {
			snprintf(err, errlen, "kysod's ECDSA signature is not a DER ECDSA-Sig-Value");
			goto out;
		}
		sig = rs;
		len = 2 * (size_t)x->ec_bytes;
	}
	b64 = kyso_b64_encode(sig, len);
	if (!b64) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	xmlNodeSetContent(x->signature_value, BAD_CAST_S(b64));
	ret = 0;
out:
	ECDSA_SIG_free(es);
	ERR_clear_error();
	free(b64);
	return ret;
}

int xades_signature_value_digest(struct xades *x, unsigned char *out, unsigned int *len)
{
	return c14n_digest(x, x->signature_value, EVP_sha256(), out, len);
}

int xades_put_timestamp(struct xades *x, const unsigned char *token, size_t len)
{
	xmlNsPtr ds = x->signature->ns, xa = x->qualifying->ns;
	xmlNodePtr ts;

	ts = add(add(add(x->qualifying, xa, "UnsignedProperties", NULL), xa,
		     "UnsignedSignatureProperties", NULL), xa, "SignatureTimeStamp", NULL);
	if (!add_alg(ts, ds, "CanonicalizationMethod", c14n_uri(x->inclusive)) ||
	    !add_b64(ts, xa, "EncapsulatedTimeStamp", token, len))
		return -1;
	return 0;
}

int xades_save(struct xades *x, const char *path, char *err, size_t errlen)
{
	if (xmlSaveFileEnc(path, x->doc, "UTF-8") < 0) {
		snprintf(err, errlen, "%s cannot be written", path);
		return -1;
	}
	return 0;
}

void xades_free(struct xades *x)
{
	if (x->doc)
		xmlFreeDoc(x->doc);
	memset(x, 0, sizeof(*x));
}
